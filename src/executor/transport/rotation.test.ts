import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TrantorError } from '../../protocol/index.ts';
import { FRESH, noReplicaAnswered, RetryWindow, Rotation, type RotatingReplica } from './rotation.ts';

const POLICY = { consecutiveFailures: 2, baseEjectionMs: 10_000, maxEjectionMs: 25_000 };

function rotationOf(...ids: string[]): { rotation: Rotation<RotatingReplica>; replicas: RotatingReplica[] } {
  const rotation = new Rotation<RotatingReplica>(POLICY);
  const replicas = ids.map((id) => ({ id, ...FRESH }));
  rotation.order = replicas;
  return { rotation, replicas };
}

describe('Rotation', () => {
  it('goes round the replicas in order', () => {
    const { rotation } = rotationOf('a', 'b', 'c');
    assert.deepEqual(Array.from({ length: 7 }, () => rotation.pick()?.id), ['a', 'b', 'c', 'a', 'b', 'c', 'a']);
  });

  it('skips the replicas a call tried or gave up on, and answers undefined when none is left', () => {
    const { rotation } = rotationOf('a', 'b', 'c');
    assert.equal(rotation.pick(new Set(['a']), new Set(['b']))?.id, 'c');
    assert.equal(rotation.pick(new Set(['a', 'c']), new Set(['b'])), undefined);
    assert.equal(new Rotation(POLICY).pick(), undefined);
  });

  it('ejects a replica after its consecutive failures, for longer each time up to the cap, and never the last one standing', () => {
    const { rotation, replicas } = rotationOf('a', 'b');
    const [a, b] = replicas as [RotatingReplica, RotatingReplica];
    rotation.failed(a);
    assert.equal(a.ejectedUntil, 0, 'one failure is not enough');
    const before = Date.now();
    rotation.failed(a);
    assert.ok(a.ejectedUntil >= before + 10_000 && a.ejectedUntil <= Date.now() + 10_000);
    assert.deepEqual(Array.from({ length: 3 }, () => rotation.pick()?.id), ['b', 'b', 'b']);
    // b is now the last one standing: its failures never eject it.
    rotation.failed(b);
    rotation.failed(b);
    assert.equal(b.ejectedUntil, 0);
    // a's next ejections grow, capped.
    a.ejectedUntil = 0;
    rotation.failed(a);
    rotation.failed(a);
    assert.equal(a.ejections, 2);
    assert.ok(a.ejectedUntil - Date.now() > 19_000 && a.ejectedUntil - Date.now() <= 20_000);
    a.ejectedUntil = 0;
    rotation.failed(a);
    rotation.failed(a);
    assert.ok(a.ejectedUntil - Date.now() <= 25_000 && a.ejectedUntil - Date.now() > 24_000);
  });

  it('offers an ejected replica when every other one was tried', () => {
    const { rotation, replicas } = rotationOf('a', 'b');
    rotation.failed(replicas[0]!);
    rotation.failed(replicas[0]!);
    assert.equal(rotation.pick(new Set(['b']))?.id, 'a');
  });

  it('forgives failures on an answer, and ejections once the replica has answered a while after coming back', () => {
    const { rotation, replicas } = rotationOf('a', 'b');
    const a = replicas[0]!;
    rotation.failed(a);
    rotation.answered(a, Date.now());
    rotation.failed(a);
    assert.equal(a.ejectedUntil, 0, 'the answer in between reset the count');
    a.ejections = 3;
    a.ejectedUntil = 1_000;
    rotation.answered(a, 1_000 + 5_000);
    assert.equal(a.ejections, 3, 'too soon after the ejection');
    rotation.answered(a, 1_000 + 10_001);
    assert.equal(a.ejections, 0);
  });
});

describe('RetryWindow', () => {
  it('waits with doubling pauses until the window closes', async () => {
    const window = new RetryWindow(10_000, { retryWindowMs: 30, retryBackoffMs: 5, retryBackoffMaxMs: 10 });
    const start = Date.now();
    let rounds = 0;
    while (await window.pause()) rounds++;
    assert.ok(Date.now() - start >= 29, 'it waited out the window');
    assert.ok(rounds >= 3 && rounds <= 6, `rounds: ${rounds}`);
    assert.ok(window.deadline >= start + 9_990);
  });

  it('closes at the call deadline when that comes first', async () => {
    const window = new RetryWindow(0, { retryWindowMs: 60_000, retryBackoffMs: 5, retryBackoffMaxMs: 10 });
    assert.equal(await window.pause(), false);
  });
});

describe('noReplicaAnswered', () => {
  it('says whether no replica was ready or none answered, with the last failure', () => {
    const none = noReplicaAnswered('node "m"', undefined);
    assert.ok(none instanceof TrantorError && none.status === 503 && none.message === 'no ready replica of node "m"');
    const cause = new Error('ECONNREFUSED');
    const failed = noReplicaAnswered('node "m"', { message: 'ECONNREFUSED', cause });
    assert.equal(failed.message, 'no replica of node "m" answered (last failure: ECONNREFUSED)');
    assert.equal(failed.cause, cause);
  });
});
