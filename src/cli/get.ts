/**
 * `trantor get`, with kubectl's habits: `get [TYPE] [NAME…]`, `TYPE/NAME…` (so `-o name` output
 * reads back), `get all`; `-n`/`-A`, `-l` selectors, `--show-labels`, `--sort-by`; `-o
 * yaml|json|wide|name|jsonpath=…|jsonpath-file=…|custom-columns=…|custom-columns-file=…`; and
 * `-w`/`--watch-only`, streamed from the control plane's watch (`GET /v1/<plural>?watch=1`).
 *
 * Without -n or -A every namespace is listed (as before); the NAMESPACE column shows when the rows
 * span more than one namespace, or always with -A.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import type { ControlPlaneClient } from '../client/index.ts';
import { CliError, streamApi } from './control-plane.ts';
import { customColumnRows, parseCustomColumns, parseCustomColumnsFile, sortItems, type Column } from './columns.ts';
import { parseOutput, serialise, table } from './format.ts';
import { connect, type Io } from './io.ts';
import { executeTemplate, parseTemplate, type Template } from './jsonpath.ts';
import { columnsOf, listObjects, type ObjectView } from './objects.ts';
import { qualifiedName, RESOURCES, resourceOfWord, resourceWords, type Resource } from './resources.ts';
import { getListing, requireDeploymentNamed, unknownResourceType } from './pods.ts';
import { matchesSelector, parseSelector, type Selector } from './selector.ts';
import { spansNamespaces } from './tables.ts';

export type GetOutput =
  | { kind: 'table' | 'wide' | 'yaml' | 'json' | 'name' }
  | { kind: 'jsonpath'; template: Template }
  | { kind: 'custom-columns'; columns: Column[] };

export interface GetFlags {
  namespace?: string;
  allNamespaces?: boolean;
  output?: string;
  selector?: string;
  showLabels?: boolean;
  sortBy?: string;
  watch?: boolean;
  watchOnly?: boolean;
  outputWatchEvents?: boolean;
}

/** What to get: a kind, and its names (none: all of them). */
export interface Query {
  resource: Resource;
  names: string[];
}

const OUTPUTS = 'yaml, json, wide, name, jsonpath=TEMPLATE, jsonpath-file=FILE, custom-columns=SPEC or custom-columns-file=FILE';

function readTemplateFile(flag: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`-o ${flag}=${file}: cannot read it: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export function parseGetOutput(value: string | undefined): GetOutput {
  if (value === undefined) return { kind: 'table' };
  if (value === 'yaml' || value === 'json' || value === 'wide' || value === 'name') return { kind: value };
  const eq = value.indexOf('=');
  const [flag, argument] = eq === -1 ? [value, ''] : [value.slice(0, eq), value.slice(eq + 1)];
  if (['jsonpath', 'jsonpath-file', 'custom-columns', 'custom-columns-file'].includes(flag) && argument === '') {
    throw new CliError(`-o ${flag}: give it a ${flag.endsWith('-file') ? 'file' : 'template'}, as -o ${flag}=${flag.endsWith('-file') ? 'FILE' : flag === 'jsonpath' ? "'{.items[*].metadata.name}'" : 'NAME:.metadata.name'}`);
  }
  switch (flag) {
    case 'jsonpath':
      return { kind: 'jsonpath', template: parseTemplate(argument) };
    case 'jsonpath-file':
      return { kind: 'jsonpath', template: parseTemplate(readTemplateFile(flag, argument)) };
    case 'custom-columns':
      return { kind: 'custom-columns', columns: parseCustomColumns(argument) };
    case 'custom-columns-file':
      return { kind: 'custom-columns', columns: parseCustomColumnsFile(readTemplateFile(flag, argument), argument) };
    default:
      throw new CliError(`-o ${value}: unknown output format; use ${OUTPUTS}`);
  }
}

function resourceOf(word: string): Resource {
  const resource = resourceOfWord(word);
  if (resource === undefined) throw unknownResourceType(word);
  return resource;
}

/** Adds `name` to the query of `resource`, keeping the order in which kinds were named. */
function addName(queries: Query[], resource: Resource, name: string | undefined): void {
  let query = queries.find((q) => q.resource === resource);
  if (query === undefined) {
    query = { resource, names: [] };
    queries.push(query);
  }
  if (name !== undefined && !query.names.includes(name)) query.names.push(name);
}

/**
 * The queries `get`'s words make: none (SeldonDeployments), `TYPE[,TYPE…] [NAME…]`, `TYPE/NAME…`
 * (every word so, as `-o name` prints them), or `all`.
 */
export function parseTargets(words: readonly string[]): Query[] {
  const [first, ...names] = words;
  if (first === undefined) return [{ resource: RESOURCES[0]!, names: [] }];
  const queries: Query[] = [];
  if (words.some((w) => w.includes('/'))) {
    for (const word of words) {
      const slash = word.indexOf('/');
      if (slash === -1) {
        throw new CliError(`"${word}": with TYPE/NAME arguments every argument is TYPE/NAME (as get sdep/a trigger/b), not a separate TYPE or NAME`);
      }
      const name = word.slice(slash + 1);
      if (name === '' || name.includes('/')) throw new CliError(`"${word}": expected TYPE/NAME, as seldondeployment.machinelearning.seldon.io/iris-model`);
      addName(queries, resourceOf(word.slice(0, slash)), name);
    }
    return queries;
  }
  if (first.toLowerCase() === 'all') {
    if (names.length > 0) throw new CliError('get all takes no names');
    // As kubectl's `get all`, configuration is not listed.
    return RESOURCES.filter((r) => r.kind !== 'ConfigMap').map((resource) => ({ resource, names: [] }));
  }
  const kinds = first.split(',');
  if (kinds.length > 1 && names.length > 0) throw new CliError(`names go with one type: get ${kinds[0]} ${names.join(' ')}`);
  for (const kind of kinds) addName(queries, resourceOf(kind), undefined);
  for (const name of names) addName(queries, queries[0]!.resource, name);
  return queries;
}

interface Found {
  resource: Resource;
  items: ObjectView[];
}

interface Scope {
  namespace: string | undefined;
  selector: Selector;
  sortBy: string | undefined;
}

/** Kinds the API may not list yet; `get all` leaves them out when their collection is missing (404). */
const OPTIONAL_IN_ALL = new Set(['Service', 'Deployment']);

/** The objects a query names: its names (each found, else an error line in `missing`) or all that match. */
async function find(info: ControlPlaneClient, query: Query, scope: Scope, optional: boolean, missing: string[]): Promise<Found | undefined> {
  const all = await listObjects(info, query.resource, optional && OPTIONAL_IN_ALL.has(query.resource.kind));
  if (all === undefined) return undefined;
  const inScope = all.filter((o) => scope.namespace === undefined || o.metadata.namespace === scope.namespace);
  let items: ObjectView[];
  if (query.names.length === 0) items = inScope.filter((o) => matchesSelector(scope.selector, o.metadata.labels));
  else {
    items = [];
    for (const name of query.names) {
      const named = inScope.filter((o) => o.metadata.name === name);
      if (named.length === 0) missing.push(`${query.resource.qualified} "${name}" not found${scope.namespace === undefined ? '' : ` in namespace ${scope.namespace}`}`);
      else if (named.length > 1) missing.push(`"${name}" exists in namespaces ${named.map((o) => o.metadata.namespace).join(', ')}; say which with -n`);
      else items.push(named[0]!);
    }
  }
  return { resource: query.resource, items: scope.sortBy === undefined ? items : sortItems(items, scope.sortBy) };
}

function scopeOf(flags: GetFlags): Scope {
  if (flags.allNamespaces === true && flags.namespace !== undefined) throw new CliError('-n and -A (--all-namespaces) cannot be used together: say one namespace, or all');
  return {
    namespace: flags.allNamespaces === true ? undefined : flags.namespace,
    selector: flags.selector === undefined ? [] : parseSelector(flags.selector),
    sortBy: flags.sortBy,
  };
}

/**
 * A template's output as a line: kubectl prints it bare, so a template ending in `{"\n"}` gets
 * no second newline, and one without still ends its line.
 */
function templateText(template: Template, data: unknown): string {
  const text = executeTemplate(template, data);
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}

/** The printed text of what was found (undefined: nothing to print, kubectl's "No resources found"). */
export function render(found: readonly Found[], output: GetOutput, flags: GetFlags, single: boolean, now?: number): string | undefined {
  const items = found.flatMap((f) => f.items);
  const document = single && items.length === 1 ? items[0] : { apiVersion: 'v1', kind: 'List', items };
  switch (output.kind) {
    case 'yaml':
    case 'json':
      return serialise(document, output.kind);
    case 'jsonpath':
      return templateText(output.template, document);
    case 'name':
      return found.flatMap((f) => f.items.map((o) => qualifiedName(f.resource.kind, o.metadata.name))).join('\n') || undefined;
    case 'custom-columns':
      return items.length === 0 ? undefined : table(output.columns.map((c) => c.header), customColumnRows(output.columns, items));
    case 'table':
    case 'wide': {
      const shown = found.filter((f) => f.items.length > 0);
      if (shown.length === 0) return undefined;
      const namespaces = flags.allNamespaces === true || spansNamespaces(items);
      // Several kinds at once: names qualified by kind, as kubectl prints `get all`.
      const qualify = shown.length > 1 || found.length > 1;
      return shown
        .map((f) => {
          const columns = columnsOf(f.resource, { namespaces, labels: flags.showLabels === true, wide: output.kind === 'wide', ...(now === undefined ? {} : { now }) });
          const rows = f.items.map((o) => columns.row(qualify ? ({ ...o, metadata: { ...o.metadata, name: qualifiedName(f.resource.kind, o.metadata.name) } } as ObjectView) : o));
          return table(columns.headers, rows);
        })
        .join('\n\n');
    }
  }
}

/** `get`: its words and flags checked first, then the control plane `connect` gives asked. */
export async function runGet(connect: () => ControlPlaneClient, given: readonly string[], flags: GetFlags, io: Io, signal?: AbortSignal): Promise<void> {
  const output = parseGetOutput(flags.output);
  let words = given;
  const [first, second, ...more] = words;
  // Replicas (`pods`) and the control plane's Events are listings of their own (pods.ts).
  if (first !== undefined && more.length === 0 && flags.watch !== true && flags.watchOnly !== true && (output.kind === 'table' || output.kind === 'wide' || output.kind === 'yaml' || output.kind === 'json' || output.kind === 'name')) {
    if (await getListing(connect, first, second, flags.namespace, parseOutput(flags.output), io)) return;
  }
  // `get NAME`: a SeldonDeployment so named, as this CLI has always read it; else kubectl's unknown type.
  if (first !== undefined && second === undefined && !first.includes('/') && !first.includes(',') && first.toLowerCase() !== 'all' && resourceOfWord(first) === undefined) {
    await requireDeploymentNamed(connect(), first, flags.namespace);
    words = ['sdep', first];
  }
  const queries = parseTargets(words);
  const scope = scopeOf(flags);
  const named = queries.some((q) => q.names.length > 0);
  if (named && flags.selector !== undefined) throw new CliError('-l cannot be used with names: list by names or by labels');
  const info = connect();
  if (flags.watch === true || flags.watchOnly === true) {
    await watch(info, queries, scope, output, flags, io, signal);
    return;
  }
  const isAll = words[0]?.toLowerCase() === 'all';
  const missing: string[] = [];
  const found: Found[] = [];
  for (const query of queries) {
    const result = await find(info, query, scope, isAll, missing);
    if (result !== undefined) found.push(result);
  }
  const single = queries.length === 1 && queries[0]!.names.length === 1;
  const text = render(found, output, flags, single);
  if (text !== undefined) io.out(text);
  else if (missing.length === 0 && (output.kind === 'table' || output.kind === 'wide' || output.kind === 'custom-columns' || output.kind === 'name')) {
    io.err(scope.namespace === undefined ? 'No resources found' : `No resources found in ${scope.namespace} namespace.`);
  }
  if (missing.length === 1) throw new CliError(missing[0]!);
  if (missing.length > 1) {
    for (const line of missing.slice(0, -1)) io.err(`error: ${line}`);
    throw new CliError(missing[missing.length - 1]!);
  }
}

interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: ObjectView;
}

/** Prints rows as a watch reports them: the header once, each row padded to the widest seen so far. */
class RowPrinter {
  #widths: number[] = [];
  #headerShown = false;
  constructor(
    readonly io: Io,
    readonly headers: readonly string[],
  ) {
    this.#widths = headers.map((h) => h.length);
  }

  #line(cells: readonly string[]): string {
    return cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(this.#widths[i] ?? 0)))
      .join('   ')
      .trimEnd();
  }

  print(row: readonly string[]): void {
    this.#widths = this.#widths.map((w, i) => Math.max(w, (row[i] ?? '').length));
    if (!this.#headerShown) {
      this.io.out(this.#line(this.headers));
      this.#headerShown = true;
    }
    this.io.out(this.#line(row));
  }
}

/**
 * `-w`: the matching objects as they are (unless --watch-only), then a row (or document) per change
 * until Ctrl-C (exit 0) or the control plane closes the stream (exit 1).
 */
async function watch(info: ControlPlaneClient, queries: readonly Query[], scope: Scope, output: GetOutput, flags: GetFlags, io: Io, signal?: AbortSignal): Promise<void> {
  const [query, ...others] = queries;
  if (query === undefined || others.length > 0) throw new CliError('-w watches one type at a time');
  if (scope.sortBy !== undefined) throw new CliError('--sort-by cannot be used with -w: rows come as objects change');
  const events = flags.outputWatchEvents === true;
  const columns = columnsOf(query.resource, { namespaces: scope.namespace === undefined, labels: flags.showLabels === true, wide: output.kind === 'wide' });
  const rows = output.kind === 'custom-columns' ? new RowPrinter(io, output.columns.map((c) => c.header)) : new RowPrinter(io, [...(events ? ['EVENT'] : []), ...columns.headers]);
  const print = (event: WatchEvent): void => {
    const object = event.object;
    switch (output.kind) {
      case 'table':
      case 'wide':
        rows.print([...(events ? [event.type] : []), ...columns.row(object)]);
        return;
      case 'custom-columns':
        rows.print(customColumnRows(output.columns, [object])[0]!);
        return;
      case 'name':
        io.out(qualifiedName(query.resource.kind, object.metadata.name));
        return;
      case 'jsonpath':
        io.out(templateText(output.template, object));
        return;
      case 'json':
        io.out(serialise(events ? event : object, 'json'));
        return;
      case 'yaml':
        io.out(`${serialise(events ? event : object, 'yaml')}\n---`);
        return;
    }
  };
  const wanted = (o: ObjectView): boolean =>
    (scope.namespace === undefined || o.metadata.namespace === scope.namespace) &&
    (query.names.length === 0 ? matchesSelector(scope.selector, o.metadata.labels) : query.names.includes(o.metadata.name));

  const stop = new AbortController();
  const onSigint = (): void => stop.abort();
  process.once('SIGINT', onSigint);
  signal?.addEventListener('abort', onSigint, { once: true });
  const path = `/v1/${query.resource.plural}?watch=1${flags.watchOnly === true ? '&sendInitialEvents=false' : ''}`;
  try {
    const body = await streamApi(info, path, stop.signal);
    let rest = '';
    for await (const chunk of body) {
      const lines = (rest + (chunk as Buffer).toString('utf8')).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        if (line.trim() === '') continue;
        const event = JSON.parse(line) as WatchEvent;
        if (wanted(event.object)) print(event);
      }
    }
  } catch (err) {
    if (stop.signal.aborted) return;
    throw new CliError(`the watch of ${query.resource.plural} ended: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    process.removeListener('SIGINT', onSigint);
    signal?.removeEventListener('abort', onSigint);
  }
  if (stop.signal.aborted) return;
  throw new CliError(`the control plane closed the watch of ${query.resource.plural} (did trantor up stop?)`);
}

export function addGetCommand(program: Command, io: Io): void {
  program
    .command('get')
    .description('list objects, or show some: get [TYPE[,TYPE…]] [NAME…], get TYPE/NAME…, get all')
    .argument('[words...]', `TYPE (${resourceWords()} or all) then names; or TYPE/NAME as -o name prints it`)
    .option('-n, --namespace <ns>', 'only this namespace (default: every namespace)')
    .option('-A, --all-namespaces', 'every namespace, with a NAMESPACE column')
    .option('-o, --output <format>', OUTPUTS)
    .option('-l, --selector <selector>', 'labels to match: a=b, a!=b, a in (x,y), a notin (x), a, !a; comma separated')
    .option('--show-labels', 'add a LABELS column')
    .option('--sort-by <jsonpath>', 'order the rows by this field, as .metadata.creationTimestamp')
    .option('-w, --watch', 'after listing, print a row again each time an object changes (Ctrl-C ends)')
    .option('--watch-only', 'print only changes, not the objects as they are now')
    .option('--output-watch-events', 'with -w: an EVENT column (ADDED, MODIFIED, DELETED)')
    .action(async (words: string[], flags: GetFlags, command: Command) => {
      await runGet(() => connect(command, io), words, flags, io);
    });
}
