import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CloudEvent } from '../protocol/index.ts';
import { compileTriggerFilter } from './filter.ts';

const EVENT: CloudEvent = {
  specversion: '1.0',
  id: '1',
  source: 'seldon.iris-deployment',
  type: 'seldon.iris-deployment.default.response',
  extensions: { region: 'eu-west', knativebrokerttl: 255 },
};

const matches = (spec: Parameters<typeof compileTriggerFilter>[0], event: CloudEvent = EVENT): boolean => compileTriggerFilter(spec)(event);

test('no attributes and no filters match every event', () => {
  assert.ok(matches({ attributes: {}, filters: [] }));
});

test('attributes match exactly, all of them', () => {
  assert.ok(matches({ attributes: { type: 'seldon.iris-deployment.default.response', source: 'seldon.iris-deployment' }, filters: [] }));
  assert.ok(!matches({ attributes: { type: 'seldon.iris-deployment.default.response', source: 'other' }, filters: [] }));
  assert.ok(!matches({ attributes: { type: 'seldon.iris-deployment' }, filters: [] }));
});

test('an attribute with an empty value matches when the attribute is present', () => {
  assert.ok(matches({ attributes: { region: '' }, filters: [] }));
  assert.ok(!matches({ attributes: { subject: '' }, filters: [] }));
});

test('attributes match extensions, integer-valued ones as their text', () => {
  assert.ok(matches({ attributes: { knativebrokerttl: '255' }, filters: [] }));
});

test('filters exact matches the whole value', () => {
  assert.ok(matches({ attributes: {}, filters: [{ exact: { type: 'seldon.iris-deployment.default.response' } }] }));
  assert.ok(!matches({ attributes: {}, filters: [{ exact: { type: 'seldon.iris-deployment' } }] }));
});

test('filters prefix and suffix match the start and the end', () => {
  assert.ok(matches({ attributes: {}, filters: [{ prefix: { type: 'seldon.' } }] }));
  assert.ok(matches({ attributes: {}, filters: [{ suffix: { type: '.response' } }] }));
  assert.ok(!matches({ attributes: {}, filters: [{ suffix: { type: '.request' } }] }));
});

test('filters on a missing attribute do not match', () => {
  assert.ok(!matches({ attributes: {}, filters: [{ prefix: { subject: '' } }] }));
});

test('all the filters entries must match', () => {
  assert.ok(!matches({ attributes: {}, filters: [{ prefix: { type: 'seldon.' } }, { exact: { source: 'nope' } }] }));
  assert.ok(matches({ attributes: {}, filters: [{ prefix: { type: 'seldon.' } }, { exact: { source: 'seldon.iris-deployment' } }] }));
});

test('all, any and not combine expressions', () => {
  assert.ok(matches({ attributes: {}, filters: [{ all: [{ prefix: { type: 'seldon.' } }, { suffix: { type: 'response' } }] }] }));
  assert.ok(!matches({ attributes: {}, filters: [{ all: [{ prefix: { type: 'seldon.' } }, { suffix: { type: 'request' } }] }] }));
  assert.ok(matches({ attributes: {}, filters: [{ any: [{ exact: { type: 'x' } }, { exact: { region: 'eu-west' } }] }] }));
  assert.ok(!matches({ attributes: {}, filters: [{ any: [{ exact: { type: 'x' } }, { exact: { region: 'us' } }] }] }));
  assert.ok(matches({ attributes: {}, filters: [{ not: { exact: { type: 'x' } } }] }));
  assert.ok(!matches({ attributes: {}, filters: [{ not: { prefix: { type: 'seldon' } } }] }));
});

test('when filters is non-empty, attributes are ignored', () => {
  assert.ok(matches({ attributes: { type: 'does-not-match' }, filters: [{ prefix: { type: 'seldon.' } }] }));
});
