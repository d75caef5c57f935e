/**
 * `trantor apply` with kubectl's habits: `-f` repeated, a folder (`-R` into its subfolders) or `-`
 * for stdin; `-n` as the namespace of documents without one; `--dry-run=client|server`; unknown
 * fields warned about (or refused with `--strict`). Every file is read and checked before anything
 * is sent, and all of them go to the control plane as one request, so a bad document anywhere
 * leaves nothing half-applied.
 */
import { readdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { parseAllDocuments, type Document } from 'yaml';
import type { ControlPlaneClient } from '../client/index.ts';
import {
  BASE_DIR_ANNOTATION,
  MAX_ALIASES,
  ManifestError,
  loadManifests,
  objectKey,
  unknownFieldWarnings,
  type ApplyResponse,
  type LoadedManifests,
} from '../manifest/index.ts';
import { callApiJson, CliError } from './control-plane.ts';
import { serialise } from './format.ts';
import { connect, type Io } from './io.ts';
import { deleteTargets } from './objects.ts';
import { qualifiedName } from './resources.ts';

/** One manifest file as read: its text, the name messages use, and where its relative paths resolve. */
export interface ManifestFile {
  /** `sdeps/iris.yaml`, or `<stdin>` */
  source: string;
  text: string;
  baseDir: string;
}

/** The extensions kubectl reads from a folder. */
export const MANIFEST_EXTENSIONS: readonly string[] = ['.yaml', '.yml', '.json'];

export const STDIN_SOURCE = '<stdin>';

export interface ReadOptions {
  /** Into subfolders of a folder given with -f (kubectl's -R). */
  recursive: boolean;
  /** Where relative paths resolve, for every file (--base-dir); by default each file's folder, and the current folder for stdin. */
  baseDir?: string;
  cwd: string;
}

/**
 * The files that `-f` names, in order: a file, each manifest of a folder in name order (with
 * subfolders when recursive), or `-` for stdin (once). Read failures become one clear line each.
 */
export function readManifestFiles(names: readonly string[], options: ReadOptions, readStdin: () => string): ManifestFile[] {
  if (names.length === 0) throw new CliError('say which manifests to apply: -f FILE, -f DIR or -f - (stdin); -f may be repeated');
  if (names.filter((n) => n === '-').length > 1) throw new CliError('-f - (stdin) may be given only once');
  const baseDirOverride = options.baseDir === undefined ? undefined : resolve(options.cwd, options.baseDir);
  const files: ManifestFile[] = [];
  for (const name of names) {
    if (name === '-') {
      files.push({ source: STDIN_SOURCE, text: readStdin(), baseDir: baseDirOverride ?? options.cwd });
      continue;
    }
    const path = resolve(options.cwd, name);
    const stats = statOf(name, path);
    if (stats.isDirectory()) {
      const found = manifestsIn(path, name, options.recursive);
      if (found.length === 0) {
        const hint = !options.recursive && hasSubfolders(path) ? '; add -R to read its subfolders too' : '';
        throw new CliError(`no manifests in ${name} (a folder is read for ${MANIFEST_EXTENSIONS.join(', ')} files${hint})`);
      }
      for (const file of found) files.push({ source: file.source, text: readText(file.source, file.path), baseDir: baseDirOverride ?? dirname(file.path) });
    } else files.push({ source: name, text: readText(name, path), baseDir: baseDirOverride ?? dirname(path) });
  }
  return files;
}

function statOf(name: string, path: string): Stats {
  try {
    return statSync(path);
  } catch (err) {
    throw readFailure(name, err);
  }
}

function readText(name: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw readFailure(name, err);
  }
}

/** ENOENT, EACCES and the like as a sentence naming the path. */
export function readFailure(name: string, err: unknown): CliError {
  const code = (err as { code?: unknown } | null)?.code;
  switch (code) {
    case 'ENOENT':
      return new CliError(`the path "${name}" does not exist`);
    case 'EACCES':
    case 'EPERM':
      return new CliError(`cannot read ${name}: permission denied`);
    case 'ENOTDIR':
      return new CliError(`the path "${name}" does not exist (a part of it is a file, not a folder)`);
    case 'EISDIR':
      return new CliError(`cannot read ${name}: it is a folder`);
    default:
      return new CliError(`cannot read ${name}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** A folder's manifest files in name order; with `recursive`, a subfolder's files where its name sorts. */
function manifestsIn(path: string, source: string, recursive: boolean): { path: string; source: string }[] {
  let entries;
  try {
    entries = readdirSync(path, { withFileTypes: true });
  } catch (err) {
    throw readFailure(source, err);
  }
  const found: { path: string; source: string }[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const childPath = join(path, entry.name);
    const childSource = join(source, entry.name);
    const isDirectory = entry.isDirectory() || (entry.isSymbolicLink() && statOf(childSource, childPath).isDirectory());
    if (isDirectory) {
      if (recursive) found.push(...manifestsIn(childPath, childSource, true));
    } else if (MANIFEST_EXTENSIONS.includes(extname(entry.name).toLowerCase())) found.push({ path: childPath, source: childSource });
  }
  return found;
}

function hasSubfolders(path: string): boolean {
  return readdirSync(path, { withFileTypes: true }).some((e) => e.isDirectory());
}

/**
 * A file's text as it is sent: each object's namespace defaulted to `namespace` (refused, as
 * kubectl does, when the object names another one), and with `pin` its folder pinned in the
 * `trantor.io/base-dir` annotation (unless it pins one already), so files from several folders
 * travel in one request and their relative paths still resolve where each file is. The text as
 * written when there is nothing to change; a document with a syntax error is passed as it is:
 * loading reports it.
 */
export function prepareText(file: ManifestFile, namespace: string | undefined, pin: boolean): string {
  if (namespace === undefined && !pin) return file.text;
  try {
    return preparedDocuments(file, namespace, pin);
  } catch (err) {
    if (err instanceof CliError) throw err;
    return file.text; // what the YAML library refuses (too many aliases…), loading reports with its place
  }
}

function preparedDocuments(file: ManifestFile, namespace: string | undefined, pin: boolean): string {
  const documents = parseAllDocuments(file.text);
  if (!Array.isArray(documents) || documents.some((d) => d.errors.length > 0)) return file.text;
  const out: string[] = [];
  for (const doc of documents) {
    if (doc.contents === null) continue;
    const items = doc.get('kind') === 'List' ? (doc.toJS({ maxAliasCount: MAX_ALIASES }) as { items?: unknown } | null)?.items : undefined;
    if (Array.isArray(items)) {
      for (let i = 0; i < items.length; i++) prepareObject(doc, ['items', i], file, namespace, pin);
    } else prepareObject(doc, [], file, namespace, pin);
    // A document that began with `---` prints it again; the join below puts one between documents.
    out.push(doc.toString().replace(/^---[ \t]*\n/, ''));
  }
  return out.join('---\n');
}

function prepareObject(doc: Document.Parsed, at: (string | number)[], file: ManifestFile, namespace: string | undefined, pin: boolean): void {
  const metadata = doc.getIn([...at, 'metadata']);
  if (metadata === undefined || metadata === null || typeof metadata !== 'object') return;
  const own = doc.getIn([...at, 'metadata', 'namespace']);
  if (namespace !== undefined) {
    if (typeof own === 'string' && own !== '' && own !== namespace) {
      const kind = String(doc.getIn([...at, 'kind']));
      const name = String(doc.getIn([...at, 'metadata', 'name']));
      throw new CliError(
        `${file.source}: ${kind} ${name}: the namespace from the provided object "${own}" does not match the namespace "${namespace}". You must pass '--namespace=${own}' to perform this operation.`,
      );
    }
    if (own === undefined || own === null || own === '') doc.setIn([...at, 'metadata', 'namespace'], namespace);
  }
  if (!pin) return;
  const annotations = doc.getIn([...at, 'metadata', 'annotations']);
  if (annotations !== undefined && annotations !== null && typeof annotations !== 'object') return;
  if (doc.getIn([...at, 'metadata', 'annotations', BASE_DIR_ANNOTATION]) === undefined) doc.setIn([...at, 'metadata', 'annotations', BASE_DIR_ANNOTATION], file.baseDir);
}

/** What is sent: one text, every file checked first. */
export interface PreparedApply {
  text: string;
  /** `a.yaml, b.yaml` */
  sources: string;
  /** Where relative paths resolve: the files' folder, when they share one (else each document pins its own). */
  baseDir: string;
  loaded: LoadedManifests;
  warnings: string[];
}

/**
 * Prepares and checks every file; throws one error listing every problem of every file, or an
 * object defined by two files. Nothing is sent before all of them pass.
 */
export function prepareApply(files: readonly ManifestFile[], namespace: string | undefined): PreparedApply {
  const texts: string[] = [];
  const problems: string[] = [];
  const definedBy = new Map<string, string>();
  const loaded: LoadedManifests = { deployments: [], brokers: [], triggers: [], services: [], kubeDeployments: [], configMaps: [] };
  const warnings: string[] = [];
  const pin = files.some((f) => f.baseDir !== files[0]?.baseDir);
  for (const file of files) {
    const text = prepareText(file, namespace, pin);
    let one: LoadedManifests;
    try {
      // The replicas limit is the server's (trantor up --max-replicas): it checks that one.
      one = loadManifests(text, { source: file.source, baseDir: file.baseDir, maxReplicas: Number.MAX_SAFE_INTEGER });
    } catch (err) {
      if (err instanceof ManifestError) {
        problems.push(err.message);
        continue;
      }
      throw err;
    }
    for (const target of deleteTargets(one)) {
      const key = objectKey(target.resource.kind, target.namespace, target.name);
      const first = definedBy.get(key);
      if (first !== undefined) problems.push(`${file.source}: ${target.resource.kind} ${target.namespace}/${target.name} is defined twice (also by ${first})`);
      else definedBy.set(key, file.source);
    }
    for (const kind of Object.keys(loaded) as (keyof LoadedManifests)[]) (loaded[kind] as unknown[]).push(...one[kind]);
    for (const warning of unknownFieldWarnings(text)) warnings.push(`${file.source}: ${warning}`);
    texts.push(text);
  }
  if (problems.length > 0) throw new CliError(problems.join('\n'));
  return { text: texts.length === 1 ? (texts[0] ?? '') : texts.map((t) => (t.endsWith('\n') ? t : `${t}\n`)).join('---\n'), sources: files.map((f) => f.source).join(', '), baseDir: files[0]?.baseDir ?? process.cwd(), loaded, warnings };
}

type DryRun = 'none' | 'client' | 'server';
type Validation = 'strict' | 'warn' | 'ignore';

interface ApplyFlags {
  filename: string[];
  recursive?: boolean;
  namespace?: string;
  baseDir?: string;
  dryRun?: string | true;
  strict?: boolean;
  validate?: string | true;
  wait?: boolean;
  timeout: string;
  output?: 'json' | 'yaml' | 'name';
}

export function dryRunOf(value: string | true | undefined): DryRun {
  if (value === undefined || value === 'none') return 'none';
  // A bare --dry-run is kubectl's old spelling of client.
  if (value === true || value === 'client') return 'client';
  if (value === 'server') return 'server';
  throw new CliError(`--dry-run=${value}: use none, client (check here, send nothing) or server (the control plane checks, stores nothing)`);
}

/** kubectl's --validate: strict (or true) refuses unknown fields, warn (the default) names them, ignore (or false) says nothing. */
export function validationOf(strict: boolean | undefined, validate: string | true | undefined): Validation {
  if (strict === true) return 'strict';
  if (validate === undefined) return 'warn';
  if (validate === true || validate === 'strict' || validate === 'true') return 'strict';
  if (validate === 'warn') return 'warn';
  if (validate === 'ignore' || validate === 'false') return 'ignore';
  throw new CliError(`--validate=${validate}: use strict (refuse unknown fields), warn (name them, the default) or ignore`);
}

/** `-f` collected as a list, as kubectl takes it repeated. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** The options apply and diff share: which manifests, and where they land. */
export function addManifestOptions(command: Command, verb: string): Command {
  return command
    .option('-f, --filename <file>', `a manifest file, a folder of them (.yaml, .yml, .json), or - for stdin; repeat for more`, collect, [])
    .option('-R, --recursive', 'read the folders given with -f and their subfolders')
    .option('-n, --namespace <ns>', `the namespace of objects that name none (an object naming another one is refused)`)
    .option('--base-dir <dir>', `where relative paths (modelUri, workingDir) in the manifests ${verb} resolve (default: each file's folder; the current folder for stdin)`);
}

/** The files of -f, read and checked; says on stderr where relative paths of stdin resolve. */
export function readAndPrepare(opts: { filename: string[]; recursive?: boolean; namespace?: string; baseDir?: string }, io: Io): PreparedApply {
  const cwd = process.cwd();
  const files = readManifestFiles(opts.filename, { recursive: opts.recursive === true, cwd, ...(opts.baseDir === undefined ? {} : { baseDir: opts.baseDir }) }, io.readStdin);
  if (opts.baseDir === undefined && files.some((f) => f.source === STDIN_SOURCE)) io.err(`note: relative paths in ${STDIN_SOURCE} resolve against ${cwd}`);
  return prepareApply(files, opts.namespace);
}

export function addApplyCommand(
  program: Command,
  io: Io,
  waitForDeployments: (info: ControlPlaneClient, targets: readonly { namespace: string; name: string }[], timeoutMs: number, io: Io) => Promise<void>,
): void {
  const command = program.command('apply').description('apply the manifests in files, folders or stdin (-f FILE|DIR|-, repeatable)');
  addManifestOptions(command, 'resolve')
    .addOption(new Option('--dry-run [strategy]', 'client: check here and send nothing; server: the control plane checks and answers, storing nothing'))
    .option('--strict', 'refuse manifests with unknown fields (same as --validate=strict)')
    .addOption(new Option('--validate [mode]', 'strict: refuse unknown fields; warn (default): name them on stderr; ignore'))
    .option('--wait', 'return once every SeldonDeployment in them is Available (exit 1 if one fails)')
    .option('--timeout <duration>', 'how long --wait waits', '300s')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['json', 'yaml', 'name']))
    .action(async (opts: ApplyFlags, cmd: Command) => {
      const dryRun = dryRunOf(opts.dryRun);
      const validation = validationOf(opts.strict, opts.validate);
      const timeoutMs = parseDuration(opts.timeout);
      const prepared = readAndPrepare(opts, io);
      if (validation === 'strict' && prepared.warnings.length > 0) {
        throw new CliError(`unknown fields (refused by --strict; nothing was applied):\n${prepared.warnings.join('\n')}`);
      }
      if (dryRun === 'client') {
        if (validation === 'warn') for (const w of prepared.warnings) io.err(`Warning: ${w}`);
        if (opts.output === 'yaml') io.out(prepared.text.trimEnd());
        else if (opts.output === 'json') io.out(serialise({ apiVersion: 'v1', kind: 'List', items: parseAllDocuments(prepared.text).map((d) => d.toJS() as unknown) }, 'json'));
        else for (const t of deleteTargets(prepared.loaded).reverse()) io.out(`${qualifiedName(t.resource.kind, t.name)} checked (dry run)`);
        return;
      }
      const info = connect(cmd, io);
      // Kubernetes' names; Warn, the API's default, is not sent.
      const query = [dryRun === 'server' ? 'dryRun=All' : '', validation === 'strict' ? 'fieldValidation=Strict' : validation === 'ignore' ? 'fieldValidation=Ignore' : ''].filter((q) => q !== '').join('&');
      const result = await callApiJson<ApplyResponse>(info, 'POST', `/v1/apply${query === '' ? '' : `?${query}`}`, prepared.text, {
        'content-type': 'application/yaml',
        'x-trantor-base-dir': encodeURIComponent(prepared.baseDir),
        'x-trantor-source': encodeURIComponent(prepared.sources),
      });
      if (validation === 'warn') for (const w of result.warnings ?? []) io.err(`Warning: ${w}`);
      const suffix = dryRun === 'server' ? ' (server dry run)' : '';
      if (opts.output === 'json' || opts.output === 'yaml') io.out(serialise(result, opts.output));
      else if (opts.output === 'name') for (const a of result.applied) io.out(qualifiedName(a.kind, a.name));
      else for (const a of result.applied) io.out(`${qualifiedName(a.kind, a.name)} ${a.action}${suffix}`);
      const deployments = result.applied.filter((a) => a.kind === 'SeldonDeployment');
      if (opts.wait === true && dryRun === 'none') await waitForDeployments(info, deployments, timeoutMs, io);
    });
}

export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!match) throw new CliError(`--timeout ${text}: expected a duration such as 90s, 5m or 1500ms`);
  const value = Number(match[1]);
  const unit = match[2] ?? 's';
  return unit === 'ms' ? value : unit === 'm' ? value * 60_000 : value * 1000;
}
