import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventNamingOf, eventReply, readEventRequest, type EventRequest } from './cloudevents.ts';

const binary: EventRequest = { message: {}, specversion: '0.3', structured: false };
const structured: EventRequest = { message: {}, specversion: '1.0', structured: true };
const reply = { data: { names: ['t:0'], ndarray: [[0.5]] }, meta: {} };
const at = (): Date => new Date('2020-03-17T22:22:51.189Z');

function headersOf(headers: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < headers.length; i += 2) out[headers[i]!.toLowerCase()] = headers[i + 1]!;
  return out;
}

const sdep = (metadata: Record<string, string>, spec: Record<string, string> = {}) => ({ metadata: { annotations: metadata }, spec: { annotations: spec } });

test('io.seldon.eventing: "enabled" (on metadata or spec) picks the notebook naming; anything else the per-deployment one', () => {
  assert.equal(eventNamingOf(sdep({ 'io.seldon.eventing': 'enabled' })), 'io.seldon.eventing');
  assert.equal(eventNamingOf(sdep({}, { 'io.seldon.eventing': 'enabled' })), 'io.seldon.eventing');
  assert.equal(eventNamingOf(sdep({})), 'seldon');
  assert.equal(eventNamingOf(sdep({ 'io.seldon.eventing': 'disabled' })), 'seldon');
});

test('a deployment without the annotation answers with seldon.<sdep>.<ns>.response from seldon.<sdep>, and no time', () => {
  const answer = eventReply(binary, 'p1', { namespace: 'default', name: 'iris-deployment', naming: 'seldon' }, reply, at);
  const headers = headersOf(answer.headers);
  assert.equal(headers['ce-type'], 'seldon.iris-deployment.default.response');
  assert.equal(headers['ce-source'], 'seldon.iris-deployment');
  assert.equal(headers['ce-id'], 'p1');
  assert.equal(headers['ce-specversion'], '0.3');
  assert.equal(headers['ce-time'], undefined);
});

test('an annotated deployment answers in binary mode with the notebook type, source and an RFC 3339 time', () => {
  const answer = eventReply(binary, 'p1', { namespace: 'default', name: 'simple-iris-deployment', naming: 'io.seldon.eventing' }, reply, at);
  const headers = headersOf(answer.headers);
  assert.equal(headers['ce-type'], 'io.seldon.eventing.response');
  assert.equal(headers['ce-source'], 'io.seldon.eventing.seldondeployment');
  assert.equal(headers['ce-specversion'], '0.3');
  assert.equal(headers['ce-time'], '2020-03-17T22:22:51.189Z');
  assert.equal(headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(answer.body), reply);
});

test('an annotated deployment answers a structured event with the notebook naming and a time', () => {
  const answer = eventReply(structured, 'p2', { namespace: 'default', name: 'simple-iris-deployment', naming: 'io.seldon.eventing' }, reply, at);
  const event = JSON.parse(answer.body) as Record<string, unknown>;
  assert.equal(event['type'], 'io.seldon.eventing.response');
  assert.equal(event['source'], 'io.seldon.eventing.seldondeployment');
  assert.equal(event['time'], '2020-03-17T22:22:51.189Z');
  assert.equal(event['specversion'], '1.0');
  assert.deepEqual(event['data'], reply);
});

test("a structured event's data reaches the model with its numbers as sent, and the reply keeps them", () => {
  const sent = '{"specversion":"1.0","id":"1","source":"s","type":"t","datacontenttype":"application/json","data":{"data":{"ndarray":[[12345678901234567890,1e400]]}}}';
  const request = readEventRequest({ 'content-type': 'application/cloudevents+json' }, Buffer.from(sent));
  const answer = eventReply(binary, 'p1', { namespace: 'default', name: 'echo', naming: 'seldon' }, request.message, at);
  assert.equal(answer.body, '{"data":{"ndarray":[[12345678901234567890,1e400]]}}');
});
