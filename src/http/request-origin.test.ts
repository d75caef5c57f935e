import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TrantorError } from '../protocol/index.ts';
import { compileRequestOrigin, normalizeHost, normalizeOrigin, type OriginHeaders, type RequestOriginPolicy } from './request-origin.ts';

const local = compileRequestOrigin({ bindHost: '127.0.0.1', port: 8000 });

function refusal(policy: RequestOriginPolicy, headers: OriginHeaders, http10 = false): TrantorError {
  try {
    policy.admit(headers, http10);
  } catch (err) {
    assert.ok(err instanceof TrantorError, `expected a TrantorError, got ${String(err)}`);
    return err;
  }
  assert.fail(`expected ${JSON.stringify(headers)} to be refused`);
}

test('a client without Origin, to a loopback name with our port, is admitted with no CORS grant', () => {
  for (const host of ['127.0.0.1:8000', 'localhost:8000', '[::1]:8000', 'LOCALHOST:8000']) {
    assert.equal(local.admit({ host, origin: undefined }), undefined, host);
  }
});

test('a foreign Host is refused with 421, whatever the Origin', () => {
  for (const host of ['evil.example:8000', 'evil.example', '127.0.0.1:8001', 'localhost', '127.0.0.2:8000']) {
    const err = refusal(local, { host, origin: undefined });
    assert.equal(err.code, 'MISDIRECTED_REQUEST', host);
    assert.equal(err.status, 421);
    assert.match(err.message, /127\.0\.0\.1:8000/);
  }
  assert.equal(refusal(local, { host: 'evil.example:8000', origin: 'http://evil.example:8000' }).status, 421);
});

test('a missing Host is refused on HTTP/1.1 and allowed on HTTP/1.0', () => {
  assert.equal(refusal(local, { host: undefined, origin: undefined }).code, 'MISDIRECTED_REQUEST');
  assert.equal(local.admit({ host: undefined, origin: undefined }, true), undefined);
});

test("the server's own origin is admitted without CORS headers; any other origin, null included, gets 403", () => {
  assert.equal(local.admit({ host: '127.0.0.1:8000', origin: 'http://127.0.0.1:8000' }), undefined);
  assert.equal(local.admit({ host: '127.0.0.1:8000', origin: 'http://localhost:8000' }), undefined);
  for (const origin of ['http://evil.example', 'null', 'http://localhost:3000', 'http://127.0.0.1', 'file://', 'http://127.0.0.1:8000.evil.example']) {
    const err = refusal(local, { host: '127.0.0.1:8000', origin });
    assert.equal(err.code, 'FORBIDDEN_ORIGIN', origin);
    assert.equal(err.status, 403);
  }
});

test('an origin in the CORS allow list is granted; the answer names it', () => {
  const policy = compileRequestOrigin({ bindHost: '127.0.0.1', port: 8000, corsAllowedOrigins: ['http://app.example', 'https://ui.example:8443/'] });
  assert.equal(policy.admit({ host: '127.0.0.1:8000', origin: 'http://app.example' }), 'http://app.example');
  assert.equal(policy.admit({ host: '127.0.0.1:8000', origin: 'https://ui.example:8443' }), 'https://ui.example:8443');
  assert.equal(refusal(policy, { host: '127.0.0.1:8000', origin: 'https://app.example' }).code, 'FORBIDDEN_ORIGIN');
  assert.match(refusal(policy, { host: '127.0.0.1:8000', origin: 'http://evil.example' }).message, /--cors-allowed-origins/);
});

test("a page's subresource request from another site (no Origin, Sec-Fetch-Site) is refused; a navigation is not", () => {
  assert.equal(refusal(local, { host: '127.0.0.1:8000', origin: undefined, fetchSite: 'cross-site', fetchMode: 'no-cors' }).code, 'FORBIDDEN_ORIGIN');
  assert.equal(refusal(local, { host: '127.0.0.1:8000', origin: undefined, fetchSite: 'same-site', fetchMode: 'no-cors' }).code, 'FORBIDDEN_ORIGIN');
  assert.equal(local.admit({ host: '127.0.0.1:8000', origin: undefined, fetchSite: 'cross-site', fetchMode: 'navigate' }), undefined);
  assert.equal(local.admit({ host: '127.0.0.1:8000', origin: undefined, fetchSite: 'same-origin', fetchMode: 'no-cors' }), undefined);
  assert.equal(local.admit({ host: '127.0.0.1:8000', origin: undefined, fetchSite: 'none', fetchMode: 'navigate' }), undefined);
});

test('allowed hosts are accepted in Host and as the own origin; a host pattern only in Host', () => {
  const policy = compileRequestOrigin({ bindHost: '127.0.0.1', port: 8000, allowedHosts: ['models.example', 'box.lan:9000'], hostPattern: /^[a-z0-9-]+-broker\.[a-z0-9-]+\.svc(?:\.cluster\.local)?$/ });
  for (const host of ['models.example', 'models.example:8000', 'box.lan:9000', 'default-broker.default.svc.cluster.local', 'default-broker.default.svc.cluster.local:8000', 'my-broker.team.svc']) {
    assert.equal(policy.admit({ host, origin: undefined }), undefined, host);
  }
  assert.equal(refusal(policy, { host: 'box.lan:8000', origin: undefined }).code, 'MISDIRECTED_REQUEST');
  assert.equal(refusal(policy, { host: 'default.svc.cluster.local', origin: undefined }).code, 'MISDIRECTED_REQUEST');
  assert.equal(policy.admit({ host: 'models.example', origin: 'https://models.example' }), undefined);
  assert.equal(refusal(policy, { host: 'default-broker.default.svc.cluster.local', origin: 'http://default-broker.default.svc.cluster.local' }).code, 'FORBIDDEN_ORIGIN');
});

test('a server exposed on every interface accepts any Host but still checks Origin', () => {
  const policy = compileRequestOrigin({ bindHost: '0.0.0.0', port: 8000, anyHost: true });
  assert.equal(policy.admit({ host: 'whatever.example:8000', origin: undefined }), undefined);
  assert.equal(policy.admit({ host: '10.1.2.3:8000', origin: 'http://127.0.0.1:8000' }), undefined);
  assert.equal(refusal(policy, { host: 'evil.example:8000', origin: 'http://evil.example:8000' }).code, 'FORBIDDEN_ORIGIN');
});

test('an IPv6 loopback bind and port 80 accept the names browsers send', () => {
  const v6 = compileRequestOrigin({ bindHost: '::1', port: 8000 });
  assert.equal(v6.admit({ host: '[::1]:8000', origin: 'http://[::1]:8000' }), undefined);
  const p80 = compileRequestOrigin({ bindHost: '127.0.0.1', port: 80 });
  assert.equal(p80.admit({ host: 'localhost', origin: 'http://localhost' }), undefined);
});

test('bad allow-list entries are refused with the entry named', () => {
  assert.throws(() => normalizeOrigin('*'), /"\*" is not an origin/);
  assert.throws(() => normalizeOrigin('http://app.example/path'), /nothing after it/);
  assert.throws(() => normalizeOrigin('app.example'), /not an origin/);
  assert.throws(() => normalizeOrigin('http://app.example:80'), /write http:\/\/app\.example/);
  assert.equal(normalizeOrigin('HTTP://App.Example'), 'http://app.example');
  assert.throws(() => normalizeHost('http://x'), /not a host name/);
  assert.throws(() => normalizeHost('x:99999'), /not a host name/);
  assert.equal(normalizeHost('Box.LAN:9000'), 'box.lan:9000');
  assert.throws(() => compileRequestOrigin({ bindHost: '127.0.0.1', port: 0 }), /port must be the port listened on/);
});

test('the compiled policy is frozen', () => {
  assert.ok(Object.isFrozen(local));
});

/** Runs `respond` in a real server and returns what a client sees. */
async function answer(respond: (res: ServerResponse, requestHeaders: string | undefined) => void, requestHeaders?: string): Promise<Response> {
  const server = createServer((req, res) => respond(res, req.headers['access-control-request-headers']));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const headers: Record<string, string> = { origin: 'http://app.example', 'access-control-request-method': 'POST' };
    if (requestHeaders !== undefined) headers['access-control-request-headers'] = requestHeaders;
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { method: 'OPTIONS', headers });
    await res.arrayBuffer();
    return res;
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

test('a preflight is answered 204 with the origin, the methods, the safe requested headers and a max age', async () => {
  const policy = compileRequestOrigin({ bindHost: '127.0.0.1', port: 8000, corsAllowedOrigins: ['http://app.example'] });
  const res = await answer((r, h) => policy.answerPreflight(r, 'http://app.example', h), 'Content-Type, Ce-Id, ce-type, Seldon-Puid, Authorization, X-Evil');
  assert.equal(res.status, 204);
  assert.equal(res.headers.get('access-control-allow-origin'), 'http://app.example');
  assert.match(res.headers.get('vary') ?? '', /^Origin\b/);
  assert.equal(res.headers.get('access-control-allow-methods'), 'GET, HEAD, POST');
  assert.equal(res.headers.get('access-control-allow-headers'), 'content-type, ce-id, ce-type, seldon-puid, authorization');
  assert.equal(res.headers.get('access-control-max-age'), '600');
});

test('an answer to a granted origin carries Allow-Origin, Vary and the exposed headers, merged with its own', async () => {
  const policy = compileRequestOrigin({ bindHost: '127.0.0.1', port: 8000, corsAllowedOrigins: ['http://app.example'] });
  const res = await answer((r) => {
    policy.allowCors(r, 'http://app.example');
    r.writeHead(200, ['Content-Type', 'application/json', 'Seldon-Puid', 'p1']);
    r.end('{}');
  });
  assert.equal(res.headers.get('access-control-allow-origin'), 'http://app.example');
  assert.equal(res.headers.get('vary'), 'Origin');
  assert.match(res.headers.get('access-control-expose-headers') ?? '', /Seldon-Puid, Ce-Id/);
  assert.equal(res.headers.get('seldon-puid'), 'p1');
});
