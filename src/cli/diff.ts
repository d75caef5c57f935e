/**
 * `trantor diff -f FILE`: each object of the manifests against what is applied, as a unified diff
 * of the YAML `get -o yaml` shows (without status and creationTimestamp, which a manifest does not
 * set). kubectl's exit codes: 0 when nothing would change, 1 when something would, above 1 on error.
 */
import type { Command } from 'commander';
import type { ControlPlaneClient } from '../client/index.ts';
import { manifestOf, type LoadedManifests, type ManifestKind } from '../manifest/index.ts';
import { asTrantorError } from '../protocol/index.ts';
import { addManifestOptions, readAndPrepare } from './apply.ts';
import { callApi, CliError, failureOf } from './control-plane.ts';
import { serialise } from './format.ts';
import { connect, type Io } from './io.ts';
import { listObjects } from './objects.ts';
import { objectPath, qualifiedName, resourceOfKind, type Resource } from './resources.ts';

/** Exit code when the manifests differ from what is applied (kubectl diff's). */
export const DIFFERENT = 1;
/** Exit code on any error, so a script can tell it from "different". */
export const DIFF_FAILED = 2;

type Metadata = { namespace: string; name: string };

/** The objects of loaded manifests, each with its kind, in the order apply stores them. */
function objectsOf(loaded: LoadedManifests): { kind: ManifestKind; object: { metadata: Metadata } }[] {
  const of = (kind: ManifestKind, list: readonly { metadata: Metadata }[]): { kind: ManifestKind; object: { metadata: Metadata } }[] => list.map((object) => ({ kind, object }));
  return [
    ...of('SeldonDeployment', loaded.deployments),
    ...of('ConfigMap', loaded.configMaps),
    ...of('Broker', loaded.brokers),
    ...of('Service', loaded.services),
    ...of('Deployment', loaded.kubeDeployments),
    ...of('Trigger', loaded.triggers),
  ];
}

/** What `get -o yaml` shows, less what only the control plane writes (status, creationTimestamp). */
export function comparable(view: Record<string, unknown>): string {
  const { status: _status, ...rest } = view;
  const metadata = rest['metadata'];
  if (typeof metadata === 'object' && metadata !== null) {
    const { creationTimestamp: _created, ...meta } = metadata as Record<string, unknown>;
    rest['metadata'] = meta;
  }
  return serialise(rest, 'yaml');
}

/** The applied object's view, or undefined when nothing of that kind, namespace and name is applied. */
async function liveView(info: ControlPlaneClient, resource: Resource, namespace: string, name: string): Promise<Record<string, unknown> | undefined> {
  if (resource.kind === 'SeldonDeployment') {
    const answer = await callApi(info, 'GET', objectPath(resource, namespace, name));
    if (answer.status === 404) return undefined;
    if (answer.status >= 300) throw new CliError(failureOf(answer));
    return JSON.parse(answer.body) as Record<string, unknown>;
  }
  const items = (await listObjects(info, resource)) ?? [];
  const found = items.find((o) => o.metadata.namespace === namespace && o.metadata.name === name);
  return found as Record<string, unknown> | undefined;
}

export function addDiffCommand(program: Command, io: Io): void {
  const command = program.command('diff').description('show how the manifests differ from what is applied (exit 0: same, 1: different, 2: error)');
  addManifestOptions(command, 'resolve').action(async (opts: { filename: string[]; recursive?: boolean; namespace?: string; baseDir?: string }, cmd: Command) => {
    let differs = false;
    try {
      const prepared = readAndPrepare(opts, io);
      const info = connect(cmd, io);
      for (const { kind, object } of objectsOf(prepared.loaded)) {
        const resource = resourceOfKind(kind);
        if (resource === undefined) continue;
        const { namespace, name } = object.metadata;
        const live = await liveView(info, resource, namespace, name);
        const before = live === undefined ? '' : comparable(live);
        const after = comparable(manifestOf(object as never) as unknown as Record<string, unknown>);
        if (before === after) continue;
        differs = true;
        const label = `${qualifiedName(kind, name)} (namespace ${namespace})`;
        io.out(unifiedDiff(before, after, `live ${label}${live === undefined ? ' (not applied)' : ''}`, `merged ${label}`).trimEnd());
      }
    } catch (err) {
      throw new CliError(err instanceof CliError ? err.message : asTrantorError(err).message, DIFF_FAILED);
    }
    // Nothing more to say on stderr: the diff was the answer.
    if (differs) throw new CliError('', DIFFERENT);
  });
}

/**
 * A unified diff (`diff -u`) of two texts, line by line, with 3 lines of context; empty when they
 * are the same. The longest common subsequence is found by dynamic programming: manifests are
 * hundreds of lines, not millions.
 */
export function unifiedDiff(before: string, after: string, beforeName: string, afterName: string, context = 3): string {
  const a = before === '' ? [] : before.replace(/\n$/, '').split('\n');
  const b = after === '' ? [] : after.replace(/\n$/, '').split('\n');
  // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  type Line = { op: ' ' | '-' | '+'; text: string; ai: number; bi: number };
  const lines: Line[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) lines.push({ op: ' ', text: a[i]!, ai: i++, bi: j++ });
    else if (i < a.length && (j === b.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) lines.push({ op: '-', text: a[i]!, ai: i++, bi: j });
    else lines.push({ op: '+', text: b[j]!, ai: i, bi: j++ });
  }
  const changed = lines.map((l, k) => (l.op === ' ' ? -1 : k)).filter((k) => k >= 0);
  if (changed.length === 0) return '';
  const out = [`--- ${beforeName}`, `+++ ${afterName}`];
  let k = 0;
  while (k < changed.length) {
    const start = Math.max(0, changed[k]! - context);
    let end = Math.min(lines.length, changed[k]! + context + 1);
    while (k + 1 < changed.length && changed[k + 1]! - context <= end) end = Math.min(lines.length, changed[++k]! + context + 1);
    k++;
    const hunk = lines.slice(start, end);
    const aCount = hunk.filter((l) => l.op !== '+').length;
    const bCount = hunk.filter((l) => l.op !== '-').length;
    const aStart = aCount === 0 ? hunk[0]!.ai : hunk[0]!.ai + 1;
    const bStart = bCount === 0 ? hunk[0]!.bi : hunk[0]!.bi + 1;
    out.push(`@@ -${aStart},${aCount} +${bStart},${bCount} @@`, ...hunk.map((l) => `${l.op}${l.text}`));
  }
  return `${out.join('\n')}\n`;
}
