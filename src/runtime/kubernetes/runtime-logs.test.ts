import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeClient, LiveObject } from './client.ts';
import { PodLogs } from './runtime-logs.ts';
import type { NodeContainer } from './runtime-status.ts';

/** A client whose followLog streams are held by the test: each call recorded, its lines pushed by hand. */
function fakeClient(): { client: KubeClient; streams: { pod: string; container: string; tailLines?: number; signal: AbortSignal; push: (line: string) => void; end: () => void }[] } {
  const streams: ReturnType<typeof fakeClient>['streams'] = [];
  const client = {
    followLog(_namespace: string, pod: string, container: string, options: { tailLines?: number; signal: AbortSignal; onLine: (line: string) => void }): Promise<void> {
      return new Promise((resolve) => {
        const stream = { pod, container, signal: options.signal, push: options.onLine, end: resolve, ...(options.tailLines === undefined ? {} : { tailLines: options.tailLines }) };
        streams.push(stream);
        options.signal.addEventListener('abort', () => resolve());
      });
    },
  };
  return { client: client as unknown as KubeClient, streams };
}

function pod(name: string, state: Record<string, unknown> | undefined, restartCount = 0): LiveObject {
  return { metadata: { name, namespace: 'seldon', uid: `uid-${name}` }, status: { containerStatuses: state === undefined ? [] : [{ name: 'model', restartCount, state }] } };
}

const at = (replica: string, p: LiveObject): NodeContainer => ({ replica, predictor: 'default', node: 'model', index: 0, pod: p, container: 'model' });
const RUNNING = { running: {} };

test('one stream per started container instance: none before it starts, one while it runs, a new one after a restart, aborted when its pod goes', () => {
  const { client, streams } = fakeClient();
  const seen: string[] = [];
  const logs = new PodLogs(client, 3, (key, line) => seen.push(`${key} ${line.replica} ${line.line}`));
  logs.sync('seldon/iris', [at('default/model/0', pod('a', { waiting: { reason: 'ContainerCreating' } }))]);
  assert.equal(streams.length, 0, 'nothing to read before the container starts');
  logs.sync('seldon/iris', [at('default/model/0', pod('a', RUNNING))]);
  logs.sync('seldon/iris', [at('default/model/0', pod('a', RUNNING))]);
  assert.deepEqual(
    streams.map((s) => [s.pod, s.container, s.tailLines]),
    [['a', 'model', 3]],
  );
  streams[0]!.push('ready 1');
  assert.deepEqual(seen, ['seldon/iris default/model/0 ready 1']);

  // It crashed and was restarted: the new instance is followed; the old stream ended on its own.
  streams[0]!.end();
  logs.sync('seldon/iris', [at('default/model/0', pod('a', { waiting: { reason: 'CrashLoopBackOff' } }, 1))]);
  assert.equal(streams.length, 1, 'a container waiting to restart has no new output yet');
  logs.sync('seldon/iris', [at('default/model/0', pod('a', RUNNING, 1))]);
  assert.equal(streams.length, 2);

  // Its pod is gone (a roll): its stream is cut.
  logs.sync('seldon/iris', [at('default/model/0', pod('b', RUNNING))]);
  assert.equal(streams[1]!.signal.aborted, true);
  assert.equal(streams[2]?.pod, 'b');
  for (const line of ['1', '2', '3', '4']) streams[2].push(line);
  assert.deepEqual(
    logs.get('seldon/iris').map((l) => l.line),
    ['2', '3', '4'],
    'the last maxLines lines are kept',
  );
});

test('forget cuts the streams of a deployment removed and drops its lines; close cuts every stream', () => {
  const { client, streams } = fakeClient();
  const logs = new PodLogs(client, 10, () => {});
  logs.sync('seldon/a', [at('default/model/0', pod('a', RUNNING))]);
  logs.sync('seldon/b', [at('default/model/0', pod('b', RUNNING))]);
  streams[0]!.push('from a');
  logs.forget('seldon/a');
  assert.equal(streams[0]!.signal.aborted, true);
  assert.deepEqual(logs.get('seldon/a'), []);
  streams[0]!.push('late');
  assert.deepEqual(logs.get('seldon/a'), [], 'a line arriving after forget is not kept');
  logs.close();
  assert.equal(streams[1]!.signal.aborted, true);
});
