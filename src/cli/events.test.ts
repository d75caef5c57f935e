import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventToSend } from './events.ts';
import { fakeServer, trantor } from './testing.ts';

test('events send posts a binary-mode event to <gateway>/<namespace>/<broker> with percent-encoded Ce- headers', async () => {
  const fake = await fakeServer(() => ({ status: 202 }));
  try {
    const result = await trantor(fake.url, [
      'events', 'send', '--type', 'seldon.iris-deployment.default.request', '--source', 'café "curl"', '--id', 'id-1',
      '--data', '{"data": { "ndarray": [[1,2,3,4]]}}', '--extension', 'traceparent=00-abc-01', '--extension', 'note=100% sure', '--specversion', '0.3',
    ]);
    assert.equal(result.code, 0, result.err);
    assert.equal(result.out, `202 Accepted: event id-1 sent to ${fake.url}/default/default`);
    const [req] = fake.seen;
    assert.equal(req?.method, 'POST');
    assert.equal(req?.url, '/default/default');
    assert.equal(req?.headers['ce-specversion'], '0.3');
    assert.equal(req?.headers['ce-id'], 'id-1');
    assert.equal(req?.headers['ce-type'], 'seldon.iris-deployment.default.request');
    assert.equal(req?.headers['ce-source'], 'caf%C3%A9%20%22curl%22');
    assert.equal(req?.headers['ce-traceparent'], '00-abc-01');
    assert.equal(req?.headers['ce-note'], '100%25%20sure');
    assert.equal(req?.headers['content-type'], 'application/json');
    assert.equal(req?.body, '{"data": { "ndarray": [[1,2,3,4]]}}');
  } finally {
    fake.server.close();
  }
});

test('events send names the broker and namespace in the path, and gives a random id by default', async () => {
  const fake = await fakeServer(() => ({ status: 202 }));
  try {
    const result = await trantor(fake.url, ['events', 'send', '--broker', 'events', '-n', 'ml', '--type', 't', '--source', 's', '-o', 'json']);
    assert.equal(result.code, 0, result.err);
    const printed = JSON.parse(result.out) as { status: number; id: string; url: string };
    assert.equal(printed.status, 202);
    assert.match(printed.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(fake.seen[0]?.url, '/ml/events');
    assert.equal(fake.seen[0]?.headers['ce-specversion'], '1.0');
    assert.equal(fake.seen[0]?.headers['ce-id'], printed.id);
    assert.equal(fake.seen[0]?.headers['content-type'], undefined);
    assert.equal(fake.seen[0]?.body, '');
  } finally {
    fake.server.close();
  }
});

test('events send exits 1 with the broker reason on a non-2xx answer', async () => {
  const body = JSON.stringify({ status: { code: 404, info: 'no broker named "nope" in namespace "default"', reason: 'NOT_FOUND', status: 'FAILURE' } });
  const fake = await fakeServer(() => ({ status: 404, body }));
  try {
    const result = await trantor(fake.url, ['events', 'send', '--broker', 'nope', '--type', 't', '--source', 's']);
    assert.equal(result.code, 1);
    assert.equal(result.err, `error: the broker at ${fake.url}/default/nope answered 404 Not Found: no broker named "nope" in namespace "default"`);
  } finally {
    fake.server.close();
  }
});

test('events send refuses data that is not JSON under a JSON content type, and a bad extension name', () => {
  const base = { type: 't', source: 's', contentType: 'application/json', extension: [], specversion: '1.0' };
  assert.throws(() => eventToSend({ ...base, data: '{nope' }), /--data is not JSON/);
  assert.equal(eventToSend({ ...base, data: 'plain', contentType: 'text/plain' }).datacontenttype, 'text/plain');
  assert.throws(() => eventToSend({ ...base, extension: ['Bad=1'] }), /extension attribute name "Bad"/);
  assert.throws(() => eventToSend({ ...base, specversion: '2.0' }), /--specversion 2\.0: use 0\.3 or 1\.0/);
  assert.deepEqual(eventToSend({ ...base, data: '@x.json' }, () => Buffer.from('[1]')).data, Buffer.from('[1]'));
});

test('events tail reads the broker stream and prints each event as event-display does', async () => {
  const lines = [
    JSON.stringify({ specversion: '1.0', id: '1', source: 'seldon.iris', type: 'seldon.iris.default.response', datacontenttype: 'application/json', data: { a: 1 } }),
    JSON.stringify({ specversion: '1.0', id: '2', source: 's', type: 't' }),
  ];
  const fake = await fakeServer(() => ({ status: 200, body: `${lines.join('\n')}\n`, type: 'application/x-ndjson' }));
  try {
    const result = await trantor(fake.url, ['events', 'tail', '--from-start']);
    assert.equal(result.code, 0, result.err);
    assert.equal(fake.seen[0]?.url, '/v1/brokers/default/default/events?follow=1&from=0');
    assert.match(result.out, /^☁️ {2}cloudevents\.Event\nValidation: valid\nContext Attributes,\n {2}specversion: 1\.0\n {2}type: seldon\.iris\.default\.response/);
    assert.match(result.out, /Data,\n {2}\{\n {4}"a": 1\n {2}\}\n\n☁️ {2}cloudevents\.Event/);
    const raw = await trantor(fake.url, ['events', 'tail', '-n', 'ml', '--broker', 'b', '-o', 'json']);
    assert.equal(fake.seen[1]?.url, '/v1/brokers/ml/b/events?follow=1');
    assert.equal(raw.out, lines.join('\n'));
  } finally {
    fake.server.close();
  }
});
