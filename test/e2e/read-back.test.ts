/**
 * Objects read back in their API's own shape: `trantor get … -o yaml` prints a Trigger with
 * `spec.filter.attributes` and Knative's status, a Broker with `status.address.url`, and piping any
 * of it into `trantor apply -f -` (from another folder than the manifests') changes nothing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT, Trantor } from './harness.ts';

const trantor = new Trantor();

const BROKER = `apiVersion: eventing.knative.dev/v1
kind: Broker
metadata: {name: events, namespace: default}
spec:
  delivery: {retry: 2, backoffDelay: PT0.5S, deadLetterSink: {uri: "http://127.0.0.1:9/dead"}}
`;

function ok(args: string[], input?: string): string {
  const result = trantor.cli(args, input);
  assert.equal(result.code, 0, `trantor ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

before(async () => {
  await trantor.up();
  for (const manifest of ['iris-deployment.yaml', 'seldon-trigger.yaml', 'event-display.yaml']) ok(['apply', '-f', join(ROOT, 'examples', 'eventing', manifest)]);
  ok(['apply', '-f', '-'], BROKER);
});

after(async () => {
  await trantor.close();
});

test('get trigger -o yaml shows spec.filter.attributes and a Knative status with Ready and subscriberUri', () => {
  const trigger = parse(ok(['get', 'trigger', 'seldon-eventing-sklearn-trigger', '-o', 'yaml'])) as {
    spec: Record<string, unknown> & { filter?: { attributes?: Record<string, string> } };
    status: { conditions?: { type: string; status: string }[]; subscriberUri?: string };
  };
  assert.deepEqual(trigger.spec.filter, { attributes: { type: 'seldon.iris-deployment.default.request' } });
  assert.equal('attributes' in trigger.spec, false, 'spec.attributes is not part of a Trigger');
  assert.deepEqual(trigger.status.conditions?.find((c) => c.type === 'Ready'), { type: 'Ready', status: 'True' });
  assert.equal(trigger.status.subscriberUri, `${trantor.gateway}/seldon/default/iris-deployment/api/v1.0/predictions`);
});

test('get broker -o yaml shows status.address.url, the URL events are posted to', () => {
  const broker = parse(ok(['get', 'broker', 'events', '-o', 'yaml'])) as { spec: unknown; status: { address?: { url?: string }; deadLetterSinkUri?: string } };
  assert.equal(broker.status.address?.url, `${trantor.gateway}/default/events`);
  assert.equal(broker.status.deadLetterSinkUri, 'http://127.0.0.1:9/dead');
  assert.deepEqual(broker.spec, { delivery: { retry: 2, backoffPolicy: 'exponential', format: 'binary', deadLetterSink: { uri: 'http://127.0.0.1:9/dead' }, backoffDelay: 'PT0.5S' } });
});

test('get -o yaml piped into apply -f - changes nothing, one object or all of them', () => {
  const everything = (): unknown => (parse(ok(['get', 'all', '-o', 'yaml'])) as { items: Record<string, unknown>[] }).items.map(({ status: _status, ...rest }) => rest);
  const before = everything();
  const outputs = [
    ok(['get', 'trigger', 'seldon-eventing-sklearn-trigger', '-o', 'yaml']),
    ok(['get', 'trigger', 'event-display', '-o', 'json']),
    ok(['get', 'sdep', 'iris-deployment', '-o', 'yaml']),
    ok(['get', 'broker', 'events', '-o', 'yaml']),
    ok(['get', 'broker', 'default', '-o', 'yaml']),
    ok(['get', 'all', '-o', 'yaml']),
  ];
  for (const output of outputs) {
    const lines = ok(['apply', '-f', '-'], output).trim().split('\n');
    assert.ok(lines.length > 0);
    for (const line of lines) assert.match(line, / unchanged$/, `applying this changed something:\n${output}`);
  }
  assert.deepEqual(everything(), before);
});
