/**
 * Seldon's payload rules at the gateway, as a client meets them: multipart bodies (`curl -F`),
 * NaN and Infinity as Python writes them, and numbers passed through exactly.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { PredictorExecutor, HttpTransport } from '../executor/index.ts';
import { StaticEndpoints, answerJson, graphNode, predictorOf, standIn } from '../executor/testing.ts';
import type { ComponentBehaviour, StandIn } from '../executor/testing.ts';
import { createGateway } from './server.ts';
import { MapDeploymentTable } from './testing.ts';

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

/** A gateway whose seldon/echo deployment is one model served by `behaviour`; the predictions URL and the stand-in. */
async function gatewayOver(behaviour: ComponentBehaviour): Promise<{ url: string; model: StandIn }> {
  const endpoints = new StaticEndpoints();
  const transport = new HttpTransport({ endpoints, retryWindowMs: 300 });
  cleanup.push(() => transport.close());
  const model = await standIn(behaviour);
  cleanup.push(() => model.close());
  endpoints.set('model', [model.replica()]);
  const predictor = predictorOf('default', graphNode('model', { type: 'MODEL' }));
  const table = new MapDeploymentTable();
  table.entries.set('seldon/echo', { namespace: 'seldon', name: 'echo', executors: [new PredictorExecutor({ namespace: 'seldon', deployment: 'echo', predictor, transport })] });
  const gateway = await createGateway({ host: '127.0.0.1', port: 0, deployments: table });
  cleanup.push(() => gateway.close());
  return { url: `${gateway.url}/seldon/seldon/echo/api/v1.0/predictions`, model };
}

/** Answers with the very text it was sent, as a pass-through model whose JSON library keeps every number would. */
const echoText: ComponentBehaviour = (request, res) => answerJson(res, 200, request.body);

/** The body's text without its `meta` member (the walk adds meta; the payload is what is compared). */
function payloadText(body: string): string {
  const at = body.indexOf(',"meta":');
  return at === -1 ? body : `${body.slice(0, at)}}`;
}

test('NaN, Infinity and -Infinity in a request reach the model as Python writes them and come back the same', async () => {
  const { url, model } = await gatewayOver(echoText);
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"data": {"ndarray": [[NaN, Infinity, -Infinity, 0.5]]}}' });
  const body = await res.text();
  assert.equal(res.status, 200, body);
  assert.equal(payloadText(model.received[0]!.body), '{"data":{"ndarray":[[NaN,Infinity,-Infinity,0.5]]}}');
  assert.equal(payloadText(body), '{"data":{"ndarray":[[NaN,Infinity,-Infinity,0.5]]}}');
});

test('an integer above 2^53 and 1e400 pass through the gateway exactly, both ways', async () => {
  const { url, model } = await gatewayOver(echoText);
  const sent = '{"data":{"ndarray":[[12345678901234567890,1e400]]}}';
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: sent });
  const body = await res.text();
  assert.equal(res.status, 200, body);
  assert.equal(payloadText(model.received[0]!.body), sent);
  assert.equal(payloadText(body), sent);
});

test('a model\'s NaN output is answered as the model wrote it, not refused as non-JSON', async () => {
  const { url } = await gatewayOver((_request, res) => answerJson(res, 200, '{"data":{"names":["t:0"],"ndarray":[[NaN]]}}'));
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"data":{"ndarray":[[1]]}}' });
  const body = await res.text();
  assert.equal(res.status, 200, body);
  assert.match(body, /^\{"data":\{"names":\["t:0"\],"ndarray":\[\[NaN\]\]\},"meta":\{/);
});

test('multipart: -F strData=@file sends the file as strData, -F binData=@file as base64 binData', async () => {
  const { url, model } = await gatewayOver(echoText);
  const text = new FormData();
  text.append('strData', new Blob(['hello, wörld\n']), 'greeting.txt');
  let res = await fetch(url, { method: 'POST', body: text });
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal((await res.json() as { strData?: string }).strData, 'hello, wörld\n');
  assert.equal(payloadText(model.received[0]!.body), JSON.stringify({ strData: 'hello, wörld\n' }));

  const bytes = new Uint8Array([0, 1, 2, 253, 254, 255]);
  const binary = new FormData();
  binary.append('binData', new Blob([bytes]), 'blob.bin');
  res = await fetch(url, { method: 'POST', body: binary });
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal((await res.json() as { binData?: string }).binData, Buffer.from(bytes).toString('base64'));
});

test('multipart: a plain strData field is text, a json part is the whole message, other fields are JSON', async () => {
  const { url, model } = await gatewayOver(echoText);
  const form = new FormData();
  form.append('strData', 'plain text');
  form.append('meta', '{"tags":{"from":"form"}}');
  let res = await fetch(url, { method: 'POST', body: form });
  assert.equal(res.status, 200, await res.text());
  assert.deepEqual(JSON.parse(model.received[0]!.body), { strData: 'plain text', meta: { tags: { from: 'form' }, puid: res.headers.get('seldon-puid') } });

  const whole = new FormData();
  whole.append('json', '{"data":{"ndarray":[[1,2]]}}');
  res = await fetch(url, { method: 'POST', body: whole });
  assert.equal(res.status, 200, await res.text());
  assert.equal(payloadText(model.received[1]!.body), '{"data":{"ndarray":[[1,2]]}}');
});

test('multipart that is not well formed, or has no parts, is a 400 saying what to send', async () => {
  const { url } = await gatewayOver(echoText);
  let res = await fetch(url, { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=XYZ' }, body: 'not multipart at all' });
  assert.equal(res.status, 400);
  assert.match(await res.text(), /multipart\/form-data body could not be parsed/);
  res = await fetch(url, { method: 'POST', headers: { 'content-type': 'multipart/form-data' }, body: '--x--' });
  assert.equal(res.status, 400);
  assert.match(await res.text(), /boundary/);
});

test('a NaN reward in feedback is refused naming NaN, not null', async () => {
  const { url } = await gatewayOver(echoText);
  const res = await fetch(url.replace('/predictions', '/feedback'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"reward":NaN}' });
  assert.equal(res.status, 400);
  assert.match(await res.text(), /reward: expected a number, got NaN/);
});

test('a tensor whose values hold 1e400, NaN and a big integer is a valid message and passes through exactly', async () => {
  const { url } = await gatewayOver(echoText);
  const sent = '{"data":{"tensor":{"shape":[1,3],"values":[1e400,NaN,12345678901234567890]}}}';
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: sent });
  const body = await res.text();
  assert.equal(res.status, 200, body);
  assert.equal(payloadText(body), sent);
});
