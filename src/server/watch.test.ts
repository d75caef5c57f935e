import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DeploymentView } from '../manifest/index.ts';
import { startApi, type ControlPlaneOps } from './api.ts';
import { Changes, diffObjects } from './watch.ts';

const obj = (name: string, state: string, namespace = 'default'): { metadata: { namespace: string; name: string }; status: { state: string } } => ({ metadata: { namespace, name }, status: { state } });

test('diffObjects sends what is new as ADDED, what changed as MODIFIED, what went as DELETED with its last state', () => {
  const sent = new Map<string, string>();
  assert.deepEqual(diffObjects(sent, [obj('a', 'Creating'), obj('b', 'Creating')]).map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED a', 'ADDED b']);
  assert.deepEqual(diffObjects(sent, [obj('a', 'Creating'), obj('b', 'Creating')]), [], 'nothing changed: nothing sent');
  assert.deepEqual(diffObjects(sent, [obj('a', 'Available'), obj('b', 'Creating')]), [{ type: 'MODIFIED', object: obj('a', 'Available') }]);
  assert.deepEqual(diffObjects(sent, [obj('b', 'Creating'), obj('a', 'Creating', 'other')]), [
    { type: 'ADDED', object: obj('a', 'Creating', 'other') },
    { type: 'DELETED', object: obj('a', 'Available') },
  ]);
});

/** A control plane whose deployments the test sets; `watchChanges` is a method using `this`, as the real one's. */
class ChangingOps implements ControlPlaneOps {
  readonly changes = new Changes();
  constructor(public items: ReturnType<typeof obj>[]) {}
  apply = (): Promise<{ applied: [] }> => Promise.resolve({ applied: [] });
  list(): DeploymentView[] {
    return this.items as unknown as DeploymentView[];
  }
  get = (): undefined => undefined;
  remove = (): Promise<boolean> => Promise.resolve(false);
  logs = (): [] => [];
  followLogs = (): (() => void) => () => undefined;
  events = (): [] => [];
  watchChanges(onChange: () => void): () => void {
    return this.changes.subscribe(onChange);
  }
}

const token = { value: 'watch-test-token-0123456789', source: 'the test' };

async function* lines(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let rest = '';
  for await (const chunk of body) {
    const parts = (rest + decoder.decode(chunk)).split('\n');
    rest = parts.pop() ?? '';
    yield* parts;
  }
}

test('GET /v1/deployments?watch=1 streams the current objects, then a JSON line per change', async () => {
  const ops = new ChangingOps([obj('a', 'Creating')]);
  const changes = { notify: (): void => ops.changes.notify() };
  const setItems = (next: ReturnType<typeof obj>[]): void => {
    ops.items = next;
  };
  const api = await startApi({ ops }, token);
  const abort = new AbortController();
  try {
    const res = await fetch(`${api.url}/v1/deployments?watch=1`, { headers: { authorization: `Bearer ${token.value}` }, signal: abort.signal });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/x-ndjson');
    const read = lines(res.body!);
    const next = async (): Promise<unknown> => JSON.parse((await read.next()).value as string) as unknown;
    assert.deepEqual(await next(), { type: 'ADDED', object: obj('a', 'Creating') });
    setItems([obj('a', 'Available')]);
    changes.notify();
    assert.deepEqual(await next(), { type: 'MODIFIED', object: obj('a', 'Available') });
    setItems([]);
    changes.notify();
    changes.notify();
    assert.deepEqual(await next(), { type: 'DELETED', object: obj('a', 'Available') });
    abort.abort();

    const quiet = await fetch(`${api.url}/v1/deployments?watch=1&sendInitialEvents=false`, { headers: { authorization: `Bearer ${token.value}` } });
    setItems([obj('z', 'Creating')]);
    changes.notify();
    const only = lines(quiet.body!);
    assert.deepEqual(JSON.parse((await only.next()).value as string), { type: 'ADDED', object: obj('z', 'Creating') }, 'without initial events the first line is the first change');
  } finally {
    abort.abort();
    await api.close();
  }
});

test('a watch of a control plane that sends no changes is refused, not left hanging', async () => {
  const ops: ControlPlaneOps = {
    apply: () => Promise.resolve({ applied: [] }),
    list: () => [],
    get: () => undefined,
    remove: () => Promise.resolve(false),
    logs: () => [],
    followLogs: () => () => undefined,
    events: () => [],
  };
  const api = await startApi({ ops }, token);
  try {
    const res = await fetch(`${api.url}/v1/deployments?watch=true`, { headers: { authorization: `Bearer ${token.value}` } });
    assert.equal(res.status >= 400, true);
    assert.match(await res.text(), /sends no changes/);
  } finally {
    await api.close();
  }
});
