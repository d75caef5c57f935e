/**
 * The operator at scale: a real etcd and kube-apiserver on loopback (test/kube/harness.ts, with an
 * audit log), the real `trantor operator` running as a user of its own, and a stand-in kubelet that
 * marks each Deployment ready as soon as the watch shows it (test/kube/fleet.ts). It times
 * `kubectl apply` of 100 SeldonDeployments (one model, a three-node graph, two predictors, in turn)
 * until all 100 are Available, then watches a steady window with forced relists and resyncs, in
 * which the operator should write nothing: its requests are counted from the audit log. Targets:
 * apply → all Available ≤ 10 s; no writes in the steady state.
 *
 * Part of `npm run bench` when the Kubernetes tier's binaries are present (docs/testing.md);
 * alone: `BENCH_ONLY=kube npm run bench`, or `node --import tsx bench/kube-reconcile.ts`.
 * `BENCH_KUBE_COUNT` (100) and `BENCH_KUBE_STEADY_SECONDS` (30) change the run.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient, seldonDeploymentCrd } from '../src/runtime/kubernetes/index.ts';
import { auditLog, fleetManifest, fleetManifests, OPERATOR_USER, requestsBy, startKubelet, watchStates, writesBy } from '../test/kube/fleet.ts';
import { findBinaries, run, startKube, type KubeServer } from '../test/kube/harness.ts';

const ROOT = join(import.meta.dirname, '..');
/** Forced in the bench, so that the steady window holds several of each. */
const RELIST = '10s';
const RESYNC = '10s';

export interface KubeReconcileReport {
  readonly count: number;
  /** `kubectl apply` of the whole fleet. */
  readonly applySeconds: number;
  /** From the start of the apply until every SeldonDeployment is Available. */
  readonly availableSeconds: number;
  /** What the operator wrote until then, by kind of request. */
  readonly converge: { readonly applies: number; readonly statusPatches: number; readonly events: number; readonly deletes: number; readonly lists: number };
  readonly steadySeconds: number;
  readonly steadyWrites: readonly string[];
  readonly steadyLists: number;
  /** CPU seconds the operator process used from the apply until all were Available. */
  readonly operatorCpuSeconds: number;
  /** CPU seconds kube-apiserver and etcd used over the same time. */
  readonly serverCpuSeconds: number;
  readonly operatorMaxRssMib: number;
  /** The machine's load average over the last minute, at the end of the convergence. */
  readonly loadAverage: number;
}

/** user + system CPU seconds of a process so far (Linux /proc). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function maxRssMib(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Math.round(Number(match[1]) / 1024) : 0;
}

/** Runs the bench; undefined (with the reason printed) when the Kubernetes tier's binaries are missing. */
export async function benchKubeReconcile(count: number, steadySeconds: number): Promise<KubeReconcileReport | undefined> {
  const bin = findBinaries();
  if ('missing' in bin) {
    console.log(`operator at scale: skipped, ${bin.missing}`);
    return undefined;
  }
  const audit = auditLog();
  let kube: KubeServer | undefined;
  const stops: (() => Promise<void>)[] = [];
  const errors: unknown[] = [];
  try {
    // A /16 of Service addresses (the harness's /24 holds 254): the fleet makes several Services each.
    kube = await startKube({ users: [{ name: OPERATOR_USER, groups: ['system:masters'] }], apiserverArgs: [...audit.args, '--service-cluster-ip-range=10.0.0.0/16'] });
    const server = kube;
    const kubectl = (args: string[], input?: string): string => {
      const result = run(bin.kubectl, args, server.kubeconfig, input);
      if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr}`);
      return result.stdout;
    };
    kubectl(['apply', '--server-side', '--field-manager=bench', '-f', '-'], JSON.stringify(seldonDeploymentCrd()));
    kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/seldondeployments.machinelearning.seldon.io']);
    kubectl(['create', 'namespace', 'warm-up']);
    kubectl(['create', 'namespace', 'fleet']);
    const config = new KubeConfig();
    config.loadFromFile(kube.kubeconfig);
    const admin = await KubeClient.of(config, 30_000);
    const kubelet = await startKubelet(admin, (e) => errors.push(e));
    stops.push(() => kubelet.stop());
    const states = await watchStates(admin, (e) => errors.push(e));
    stops.push(() => states.stop());

    const operator = spawn(process.execPath, [join(ROOT, 'bin', 'trantor.js'), 'operator', '--set', `operator.relist=${RELIST}`, '--set', `operator.resync=${RESYNC}`, ...(process.env['BENCH_KUBE_SET'] ?? '').split(' ').filter((x) => x !== '').flatMap((x) => ['--set', x])], {
      env: { ...process.env, KUBECONFIG: kube.kubeconfigFor(OPERATOR_USER) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (chunk: Buffer): void => void (output = (output + chunk.toString()).slice(-20_000));
    operator.stdout.on('data', keep);
    operator.stderr.on('data', keep);
    const exited = new Promise<void>((resolve) => operator.once('exit', () => resolve()));
    stops.push(async () => {
      operator.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000).then(() => operator.kill('SIGKILL'))]);
    });
    const pid = operator.pid!;

    // One SeldonDeployment first: once it is Available the operator's caches are synced and warm.
    kubectl(['apply', '--server-side', '--field-manager=bench', '-f', '-'], fleetManifest(0, 'warm-up'));
    await states.until('Available', 1, 120_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${output}`);
    });

    const serverCpu = (): number => cpuSeconds(server.pids.apiserver) + cpuSeconds(server.pids.etcd);
    const cpuBefore = cpuSeconds(pid);
    const serverCpuBefore = serverCpu();
    const start = Date.now();
    kubectl(['apply', '--server-side', '--field-manager=bench', '-f', '-'], fleetManifests(count, 'fleet'));
    const applied = Date.now();
    await states.until('Available', count + 1, 300_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${output}`);
    });
    const available = Date.now();
    const operatorCpuSeconds = cpuSeconds(pid) - cpuBefore;
    const serverCpuSeconds = serverCpu() - serverCpuBefore;
    const loadAverage = loadavg()[0] ?? 0;

    await sleep(steadySeconds * 1000);
    const converging = requestsBy(audit.path, OPERATOR_USER, start).filter((r) => r.at < available);
    const steady = requestsBy(audit.path, OPERATOR_USER, available);
    const writes = writesBy(audit.path, OPERATOR_USER, available);
    if (errors.length > 0) throw new Error(`the bench's own watches failed: ${errors.map(String).join('; ')}`);
    return {
      count,
      applySeconds: (applied - start) / 1000,
      availableSeconds: (available - start) / 1000,
      converge: {
        applies: converging.filter((r) => r.verb === 'patch' && !r.what.includes('/status')).length,
        statusPatches: converging.filter((r) => r.verb === 'patch' && r.what.includes('/status')).length,
        events: converging.filter((r) => r.verb === 'create' && r.what.startsWith('events')).length,
        deletes: converging.filter((r) => r.verb === 'delete').length,
        lists: converging.filter((r) => r.verb === 'list').length,
      },
      steadySeconds,
      steadyWrites: writes.map((w) => `${w.verb} ${w.what}`),
      steadyLists: steady.filter((r) => r.verb === 'list').length,
      operatorCpuSeconds,
      serverCpuSeconds,
      loadAverage,
      operatorMaxRssMib: maxRssMib(pid),
    };
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    await kube?.stop();
  }
}

export function formatKubeReconcile(r: KubeReconcileReport): string {
  const c = r.converge;
  return [
    `Operator at scale: ${r.count} SeldonDeployments against a real kube-apiserver (targets: apply → all Available ≤ 10 s; no writes in the steady state)`,
    '',
    '| measure | value |',
    '|---|---:|',
    `| kubectl apply of ${r.count} SeldonDeployments | ${r.applySeconds.toFixed(2)} s |`,
    `| apply → all ${r.count} Available | ${r.availableSeconds.toFixed(2)} s |`,
    `| CPU until then: operator / kube-apiserver + etcd | ${r.operatorCpuSeconds.toFixed(2)} s / ${r.serverCpuSeconds.toFixed(2)} s |`,
    `| machine load average (1 min) at the end | ${r.loadAverage.toFixed(1)} |`,
    `| operator writes until then: applies / status patches / Events / deletes | ${c.applies} / ${c.statusPatches} / ${c.events} / ${c.deletes} |`,
    `| operator lists until then | ${c.lists} |`,
    `| steady window (relist and resync every ${RELIST}) | ${r.steadySeconds} s |`,
    `| operator writes in the steady window | ${r.steadyWrites.length} |`,
    `| operator lists in the steady window (its relists) | ${r.steadyLists} |`,
    `| operator peak RSS | ${r.operatorMaxRssMib} MiB |`,
    ...(r.steadyWrites.length === 0 ? [] : ['', 'Steady-state writes:', ...r.steadyWrites.slice(0, 20).map((w) => `- ${w}`)]),
  ].join('\n');
}

if (process.argv[1] !== undefined && import.meta.filename === process.argv[1]) {
  const report = await benchKubeReconcile(Number(process.env['BENCH_KUBE_COUNT'] ?? 100), Number(process.env['BENCH_KUBE_STEADY_SECONDS'] ?? 30));
  if (report !== undefined) console.log(formatKubeReconcile(report));
}
