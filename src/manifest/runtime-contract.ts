/**
 * The Runtime contract as tests: every runtime (the local supervisor now, the Kubernetes one
 * later) runs this suite from its own test file, with deployments it can run. Test code only:
 * nothing in the product imports it.
 */
import assert from 'node:assert/strict';
import { after, test as nodeTest } from 'node:test';
import type { DeploymentState, SeldonDeployment } from './types.ts';
import type { DeploymentStatus, EndpointSource, Runtime, RuntimeEvent, UnitKey } from './runtime.ts';

export interface RuntimeContractSubject {
  /** A fresh runtime; the suite closes it. */
  runtime(): Runtime & EndpointSource;
  /**
   * A deployment `name` (in namespace `seldon`, predictor `default`, one graph node `model`)
   * whose component starts, answers its health check and prints `ready <version>` to stdout;
   * another `version` is another spec, so applying it rolls.
   */
  healthy(name: string, version: number): SeldonDeployment;
  /** A deployment whose component exits at start after printing `failureOutput`. */
  failing(name: string): SeldonDeployment;
  /** What `failing`'s component prints, to be quoted in the Failed description. */
  failureOutput: RegExp;
  /** How long a deployment may take to become Available or Failed (default 30 s). */
  timeoutMs?: number;
  /** Cases this runtime does differently, each with why (node:test prints the reason). */
  skip?: Partial<Record<RuntimeContractCase, string>>;
}

/** The suite's cases, by the names a subject's `skip` uses. */
export const RUNTIME_CONTRACT_CASES = ['available', 'watch-status', 'watch-logs', 'roll', 'remove', 'fails', 'recovers', 'logs', 'close'] as const;
export type RuntimeContractCase = (typeof RUNTIME_CONTRACT_CASES)[number];

const NAMESPACE = 'seldon';

export function runtimeContract(label: string, subject: RuntimeContractSubject): void {
  const timeoutMs = subject.timeoutMs ?? 30_000;
  const runtimes: Runtime[] = [];
  after(async () => {
    await Promise.all(runtimes.map((r) => r.close()));
  });
  const fresh = (): Runtime & EndpointSource => {
    const runtime = subject.runtime();
    runtimes.push(runtime);
    return runtime;
  };
  const test = (id: RuntimeContractCase, title: string, fn: () => Promise<void>): void => {
    const skip = subject.skip?.[id];
    nodeTest(`${label}: ${title}`, skip === undefined ? {} : { skip }, fn);
  };
  const unit = (name: string): UnitKey => ({ namespace: NAMESPACE, deployment: name, predictor: 'default', node: 'model' });

  /** Polls `probe` until it gives a value, with a deadline; `each` sees every poll. */
  async function waitFor<T>(what: string, probe: () => T | undefined, each?: () => void): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      each?.();
      const value = probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`${label}: timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
  const waitForState = (runtime: Runtime, name: string, state: DeploymentState, each?: () => void): Promise<DeploymentStatus> =>
    waitFor(
      `${name} to be ${state}`,
      () => {
        const status = runtime.status(NAMESPACE, name);
        return status?.state === state ? status : undefined;
      },
      each,
    );

  test('available', "apply leads to Available, every replica Ready and its node's endpoints offered", async () => {
    const runtime = fresh();
    assert.equal(runtime.status(NAMESPACE, 'avail'), undefined);
    assert.deepEqual(runtime.replicasOf(unit('avail')), []);
    await runtime.apply(subject.healthy('avail', 1));
    const status = await waitForState(runtime, 'avail', 'Available');
    assert.equal(status.description, undefined);
    assert.ok(status.replicas.length > 0);
    for (const replica of status.replicas) {
      assert.equal(replica.state, 'Ready');
      assert.deepEqual([replica.predictor, replica.node], ['default', 'model']);
    }
    assert.ok(runtime.replicasOf(unit('avail')).length > 0);
    await waitFor('the component output in logs', () => (runtime.logs(NAMESPACE, 'avail').some((l) => /ready 1/.test(l.line)) ? true : undefined));
  });

  test('watch-status', 'watch reports status changes until unsubscribed', async () => {
    const runtime = fresh();
    const events: RuntimeEvent[] = [];
    const stop = runtime.watch((event) => events.push(event));
    await runtime.apply(subject.healthy('watched', 1));
    await waitFor('an Available status event', () => (events.some((e) => e.type === 'status' && e.name === 'watched' && e.status.state === 'Available') ? true : undefined));
    stop();
    const seen = events.length;
    await runtime.remove(NAMESPACE, 'watched');
    assert.equal(events.length, seen, 'no event after the listener was removed');
  });

  test('watch-logs', "watch reports its replicas' log lines", async () => {
    const runtime = fresh();
    const events: RuntimeEvent[] = [];
    const stop = runtime.watch((event) => events.push(event));
    await runtime.apply(subject.healthy('watched-logs', 1));
    await waitFor('a log event', () => (events.some((e) => e.type === 'log' && e.name === 'watched-logs' && /ready 1/.test(e.line)) ? true : undefined));
    stop();
  });

  test('roll', 're-applying the same spec changes nothing; a new spec rolls with no moment without endpoints', async () => {
    const runtime = fresh();
    await runtime.apply(subject.healthy('rolled', 1));
    await waitForState(runtime, 'rolled', 'Available');
    await runtime.apply(subject.healthy('rolled', 1));
    assert.equal(runtime.status(NAMESPACE, 'rolled')?.state, 'Available');

    await runtime.apply(subject.healthy('rolled', 2));
    const gapless = (): void => assert.ok(runtime.replicasOf(unit('rolled')).length > 0, 'the node had no endpoints during the roll');
    await waitFor('version 2 to print', () => (runtime.logs(NAMESPACE, 'rolled').some((l) => /ready 2/.test(l.line)) ? true : undefined), gapless);
    await waitForState(runtime, 'rolled', 'Available', gapless);
  });

  test('remove', 'remove stops the deployment, its status and its endpoints', async () => {
    const runtime = fresh();
    const removed: string[] = [];
    runtime.watch((event) => {
      if (event.type === 'removed') removed.push(event.name);
    });
    await runtime.apply(subject.healthy('removed', 1));
    await waitForState(runtime, 'removed', 'Available');
    await runtime.remove(NAMESPACE, 'removed');
    assert.equal(runtime.status(NAMESPACE, 'removed'), undefined);
    assert.deepEqual(runtime.replicasOf(unit('removed')), []);
    assert.deepEqual(removed, ['removed']);
    await runtime.remove(NAMESPACE, 'removed');
  });

  test('fails', 'a component that cannot start fails its deployment, saying why', async () => {
    const runtime = fresh();
    await runtime.apply(subject.failing('broken'));
    const status = await waitForState(runtime, 'broken', 'Failed');
    assert.match(status.description ?? '', subject.failureOutput);
    assert.deepEqual(runtime.replicasOf(unit('broken')), []);
  });

  test('recovers', 'a Failed deployment runs once a spec that works is applied', async () => {
    const runtime = fresh();
    await runtime.apply(subject.failing('mended'));
    await waitForState(runtime, 'mended', 'Failed');
    await runtime.apply(subject.healthy('mended', 1));
    const status = await waitForState(runtime, 'mended', 'Available');
    assert.equal(status.description, undefined);
    assert.ok(runtime.replicasOf(unit('mended')).length > 0);
  });

  test('logs', 'logs answer the last lines with tail, and nothing for an unknown deployment', async () => {
    const runtime = fresh();
    assert.deepEqual(runtime.logs(NAMESPACE, 'nothing-here'), []);
    await runtime.apply(subject.healthy('tailed', 1));
    await waitFor('the component output in logs', () => (runtime.logs(NAMESPACE, 'tailed').some((l) => /ready 1/.test(l.line)) ? true : undefined));
    const all = runtime.logs(NAMESPACE, 'tailed');
    assert.deepEqual(runtime.logs(NAMESPACE, 'tailed', { tail: 1 }), all.slice(-1));
    assert.equal(runtime.logs(NAMESPACE, 'tailed', { tail: all.length + 10 }).length, all.length);
  });

  test('close', 'close stops every deployment and refuses further applies', async () => {
    const runtime = fresh();
    await runtime.apply(subject.healthy('closed-a', 1));
    await runtime.apply(subject.healthy('closed-b', 1));
    await waitForState(runtime, 'closed-a', 'Available');
    await waitForState(runtime, 'closed-b', 'Available');
    await runtime.close();
    assert.deepEqual(runtime.replicasOf(unit('closed-a')), []);
    assert.deepEqual(runtime.replicasOf(unit('closed-b')), []);
    await assert.rejects(runtime.apply(subject.healthy('closed-c', 1)));
    await runtime.close();
  });
}
