/**
 * The contract every EventStore passes: run it against a new implementation with a factory that
 * opens a store on a folder (the same folder twice means "the same data, after a restart"), and
 * one that tells a child process how to open it, for the kill -9 property: an acknowledged append
 * or mark survives the process being killed with SIGKILL in the middle of a stream of them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { dataBytes, decodeStructured, eventToJsonText, memberText, type CloudEvent } from '../../protocol/index.ts';
import type { EventStore } from './store.ts';

export type OpenStore = (folder: string) => EventStore;

/**
 * How a child process (`node --import tsx`) opens the same store as `OpenStore` on a folder: it
 * imports `module` (a path or file URL) and calls its export `name` with the folder and `args`;
 * the result (or the promise of it) is the EventStore.
 */
export interface OpenInChild {
  module: string;
  name: string;
  args?: readonly (string | number | boolean | null)[];
}

/** What a child acknowledged before it was killed, and what a store opened afterwards holds of it. */
export interface KillOutcome {
  /** Appends the child saw resolve: event id → sequence number. */
  appended: Map<string, number>;
  /** Ids whose delivery the child saw marked delivered. */
  delivered: Set<string>;
  /** Acknowledged appends missing after the restart, or back with another sequence number. */
  lost: string[];
  /** Acknowledged marks undone by the restart: the delivery is pending again. */
  unmarked: string[];
  /** Whether the store, reopened, numbers a new append above every acknowledged one. */
  numbersGrow: boolean;
  /** The child's stderr, for a failure message. */
  stderr: string;
}

const KILL_BROKER = 'ns/kill';
const KILL_TRIGGER = 'ns/kill-t';

/** The child: eight producers append one event at a time, and mark every third delivered, forever. */
function killChildScript(inChild: OpenInChild, folder: string): string {
  const module = inChild.module.startsWith('file:') ? inChild.module : pathToFileURL(inChild.module).href;
  return `
    import { writeSync } from 'node:fs';
    const opener = (await import(${JSON.stringify(module)}))[${JSON.stringify(inChild.name)}];
    const store = await opener(${JSON.stringify(folder)}, ...${JSON.stringify(inChild.args ?? [])});
    // Written synchronously, after the store resolved: a line on stdout is an acknowledgement.
    // The pipe is non-blocking: when the parent reads slowly it is full (EAGAIN) and nothing was
    // written (a line is shorter than PIPE_BUF, so it goes whole or not at all): write it again.
    const ack = (line) => {
      for (;;) {
        try {
          writeSync(1, line + '\\n');
          return;
        } catch (err) {
          if (err.code !== 'EAGAIN') throw err;
        }
      }
    };
    ack('open');
    let next = 0;
    const producer = async () => {
      for (;;) {
        const id = 'e' + next++;
        const event = { specversion: '1.0', id, source: 'contract', type: 'kill', extensions: {}, data: { id } };
        const [seq] = await store.append(${JSON.stringify(KILL_BROKER)}, [{ event, triggers: [${JSON.stringify(KILL_TRIGGER)}] }]);
        ack('appended ' + id + ' ' + seq);
        if (seq % 3 === 0) {
          await store.markDelivered(${JSON.stringify(KILL_TRIGGER)}, seq);
          ack('delivered ' + id);
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, producer));
  `;
}

/**
 * Starts a child that appends and marks without pause, kills it with SIGKILL once it has
 * acknowledged `appends` appends (while more are in flight), then opens the store on the same
 * folder and compares. Rejects if the child does not get that far within `timeoutMs`.
 */
export async function killMidStream(inChild: OpenInChild, open: OpenStore, options: { appends?: number; timeoutMs?: number } = {}): Promise<KillOutcome> {
  const want = options.appends ?? 150;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const folder = mkdtempSync(join(tmpdir(), 'trantor-kill-'));
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', killChildScript(inChild, folder)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const appended = new Map<string, number>();
  const delivered = new Set<string>();
  let stderr = '';
  let partial = '';
  const take = (line: string): void => {
    const [what, id, seq] = line.split(' ');
    if (what === 'appended' && id !== undefined) appended.set(id, Number(seq));
    else if (what === 'delivered' && id !== undefined) delivered.add(id);
  };
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  // Every line the child wrote before it died is read: the pipe keeps it until 'close'.
  const closed = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, signal) => resolve(signal)));
  const enough = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the child acknowledged ${appended.size} of ${want} appends in ${timeoutMs} ms: ${stderr}`)), timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) take(line);
      if (appended.size >= want && delivered.size > 0) {
        clearTimeout(timer);
        resolve();
      }
    });
    void closed.then(() => {
      clearTimeout(timer);
      reject(new Error(`the child exited before it was killed, after ${appended.size} appends: ${stderr}`));
    });
  });
  try {
    await enough;
  } finally {
    child.kill('SIGKILL');
  }
  const signal = await closed;
  if (partial !== '') take(partial);
  assert.equal(signal, 'SIGKILL', `the child was not killed by SIGKILL: ${stderr}`);

  const store = open(folder);
  try {
    const stored = new Map<string, number>();
    for (let from = 0; ; ) {
      const page = await store.read(KILL_BROKER, from, 1000);
      for (const e of page) stored.set(e.event.id, e.seq);
      if (page.length < 1000) break;
      from = page[page.length - 1]!.seq + 1;
    }
    const pending = new Set((await store.pending(KILL_TRIGGER, { limit: 1_000_000 })).map((p) => p.event.id));
    const lost = [...appended].filter(([id, seq]) => stored.get(id) !== seq).map(([id]) => id);
    const unmarked = [...delivered].filter((id) => pending.has(id));
    const highest = Math.max(...appended.values());
    const [next] = await store.append(KILL_BROKER, [{ event: sampleEvent('after-restart'), triggers: [] }]);
    return { appended, delivered, lost, unmarked, numbersGrow: next! > highest, stderr };
  } finally {
    await store.close();
  }
}

export function sampleEvent(id: string, extra: Partial<CloudEvent> = {}): CloudEvent {
  return { specversion: '1.0', id, source: 'test', type: 'sample', extensions: {}, ...extra };
}

export function eventStoreContract(name: string, open: OpenStore, inChild: OpenInChild): void {
  const folder = (): string => mkdtempSync(join(tmpdir(), 'trantor-store-'));

  test(`${name}: every append and mark acknowledged before a kill -9 mid-stream is there after a restart`, { timeout: 120_000 }, async () => {
    const outcome = await killMidStream(inChild, open);
    assert.ok(outcome.appended.size >= 150 && outcome.delivered.size > 0);
    assert.deepEqual(outcome.lost, [], `acknowledged appends lost: ${outcome.lost.length} of ${outcome.appended.size}`);
    assert.deepEqual(outcome.unmarked, [], `acknowledged marks undone: ${outcome.unmarked.length} of ${outcome.delivered.size}`);
    assert.ok(outcome.numbersGrow, 'after the restart a new append was numbered at or below an acknowledged one');
  });

  test(`${name}: append resolves with growing sequence numbers, in order`, async () => {
    const store = open(folder());
    try {
      const a = await store.append('ns/default', [{ event: sampleEvent('1'), triggers: [] }, { event: sampleEvent('2'), triggers: [] }]);
      const b = await store.append('ns/default', [{ event: sampleEvent('3'), triggers: [] }]);
      assert.equal(a.length, 2);
      assert.ok(a[0]! < a[1]! && a[1]! < b[0]!);
      assert.equal(await store.lastSeq(), b[0]);
    } finally {
      await store.close();
    }
  });

  test(`${name}: concurrent appends are all stored and numbered apart`, async () => {
    const store = open(folder());
    try {
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => store.append('ns/default', [{ event: sampleEvent(String(i)), triggers: ['ns/t'] }])),
      );
      const seqs = results.flat();
      assert.equal(new Set(seqs).size, 50);
      assert.equal((await store.pending('ns/t')).length, 50);
    } finally {
      await store.close();
    }
  });

  test(`${name}: read returns one broker's events from a sequence number, data intact`, async () => {
    const store = open(folder());
    try {
      const bytes = Buffer.from([0, 1, 2, 255]);
      const [s1] = await store.append('ns/a', [{ event: sampleEvent('1', { data: bytes, datacontenttype: 'application/octet-stream' }), triggers: [] }]);
      await store.append('ns/b', [{ event: sampleEvent('x'), triggers: [] }]);
      const [s2] = await store.append('ns/a', [{ event: sampleEvent('2', { data: { n: 1 }, extensions: { ttl: 3 } }), triggers: [] }]);
      const all = await store.read('ns/a', 0);
      assert.deepEqual(all.map((e) => e.event.id), ['1', '2']);
      assert.deepEqual([...(all[0]!.event.data as Uint8Array)], [0, 1, 2, 255]);
      assert.deepEqual(all[1]!.event.data, { n: 1 });
      assert.deepEqual(all[1]!.event.extensions, { ttl: 3 });
      assert.deepEqual((await store.read('ns/a', s2!)).map((e) => e.seq), [s2]);
      assert.ok(s1! < s2!);
    } finally {
      await store.close();
    }
  });

  test(`${name}: structured-mode data comes back as the exact text it arrived as, null data included`, async () => {
    const store = open(folder());
    const exact = '{"n":12345678901234567890, "f":1.50,"s":"\\u00e9"}';
    try {
      const big = decodeStructured(`{"specversion":"1.0","id":"big","source":"s","type":"t","datacontenttype":"application/json","data":${exact}}`);
      const none = decodeStructured('{"specversion":"1.0","id":"null","source":"s","type":"t","data":null}');
      await store.append('ns/a', [{ event: big, triggers: ['ns/t'] }, { event: none, triggers: ['ns/t'] }]);
      const [first, second] = await store.pending('ns/t');
      assert.equal(dataBytes(first!.event).toString('utf8'), exact);
      assert.equal(memberText(eventToJsonText(first!.event), 'data'), exact);
      assert.equal(second!.event.data, null);
      assert.equal(dataBytes(second!.event).toString('utf8'), 'null');
      const [, read] = await store.read('ns/a', 0);
      assert.equal(read!.event.data, null);
    } finally {
      await store.close();
    }
  });

  test(`${name}: pending lists a trigger's deliveries until marked delivered or dead-lettered`, async () => {
    const store = open(folder());
    try {
      const seqs = await store.append('ns/default', [
        { event: sampleEvent('1'), triggers: ['ns/t1', 'ns/t2'] },
        { event: sampleEvent('2'), triggers: ['ns/t1'] },
        { event: sampleEvent('3'), triggers: ['ns/t1'] },
      ]);
      assert.deepEqual((await store.pending('ns/t1')).map((p) => p.event.id), ['1', '2', '3']);
      assert.deepEqual((await store.pending('ns/t2')).map((p) => p.event.id), ['1']);
      await store.markDelivered('ns/t1', seqs[0]!);
      await store.markDeadLettered('ns/t1', seqs[1]!);
      assert.deepEqual((await store.pending('ns/t1')).map((p) => p.event.id), ['3']);
      assert.deepEqual((await store.pending('ns/t1', { afterSeq: seqs[2]! })).map((p) => p.event.id), []);
      assert.deepEqual((await store.pending('ns/t1', { limit: 0 })).length, 0);
      assert.deepEqual(await store.counts('ns/t1'), { pending: 1, delivered: 1, deadLettered: 1 });
      assert.deepEqual(await store.triggers(), ['ns/t1', 'ns/t2']);
    } finally {
      await store.close();
    }
  });

  test(`${name}: attempts are kept with the pending delivery`, async () => {
    const store = open(folder());
    try {
      const [seq] = await store.append('ns/default', [{ event: sampleEvent('1'), triggers: ['ns/t'] }]);
      await store.recordAttempts('ns/t', seq!, 2);
      assert.equal((await store.pending('ns/t'))[0]!.attempts, 2);
    } finally {
      await store.close();
    }
  });

  test(`${name}: events and pending deliveries survive closing and reopening`, async () => {
    const dir = folder();
    const first = open(dir);
    const seqs = await first.append('ns/default', [{ event: sampleEvent('1'), triggers: ['ns/t'] }, { event: sampleEvent('2'), triggers: ['ns/t'] }]);
    await first.markDelivered('ns/t', seqs[0]!);
    await first.recordAttempts('ns/t', seqs[1]!, 1);
    await first.close();
    const second = open(dir);
    try {
      const pending = await second.pending('ns/t');
      assert.deepEqual(pending.map((p) => [p.event.id, p.attempts]), [['2', 1]]);
      const [next] = await second.append('ns/default', [{ event: sampleEvent('3'), triggers: [] }]);
      assert.ok(next! > seqs[1]!);
    } finally {
      await second.close();
    }
  });

  test(`${name}: compaction removes delivered events beyond the retention, never pending ones`, async () => {
    const store = open(folder());
    try {
      const records = Array.from({ length: 10 }, (_, i) => ({ event: sampleEvent(String(i)), triggers: i === 2 ? ['ns/t'] : [] }));
      await store.append('ns/default', records);
      const removed = await store.compact({ retain: 3 });
      assert.equal(removed, 6); // 0..6 are beyond the newest 3; event 2 is still pending
      assert.deepEqual((await store.read('ns/default', 0)).map((e) => e.event.id), ['2', '7', '8', '9']);
      const [seq] = (await store.pending('ns/t')).map((p) => p.seq);
      await store.markDelivered('ns/t', seq!);
      assert.equal(await store.compact({ retain: 3 }), 1);
      const [after] = await store.append('ns/default', [{ event: sampleEvent('10'), triggers: [] }]);
      assert.ok(after! > seq!);
    } finally {
      await store.close();
    }
  });

  test(`${name}: dropping a trigger forgets its pending deliveries`, async () => {
    const store = open(folder());
    try {
      await store.append('ns/default', [{ event: sampleEvent('1'), triggers: ['ns/t'] }]);
      await store.dropTrigger('ns/t');
      assert.deepEqual(await store.pending('ns/t'), []);
      assert.deepEqual(await store.triggers(), []);
    } finally {
      await store.close();
    }
  });
}
