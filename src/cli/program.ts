/**
 * The `trantor` command line (kubectl-like). Every command but `up` talks to a running control
 * plane over HTTP; `up` is added by the server's entry point, which owns the process.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { request } from 'undici';
import type { ControlPlaneClient } from '../client/index.ts';
import type { ApplyResponse, DeploymentList, DeploymentView } from '../manifest/index.ts';
import { loadManifests } from '../manifest/index.ts';
import { asTrantorError, stringifyJson } from '../protocol/index.ts';
import { callApi, callApiJson, CliError, failureOf } from './control-plane.ts';
import { connect, homeOf, processIo, type Io } from './io.ts';
import { textOrFile, unreadable } from './files.ts';
import { addFeedbackCommand, keepLastPrediction } from './feedback.ts';
import { addVersionCommand } from './version.ts';
import { addCompletionCommand, COMPLETE_COMMAND, runComplete } from './completion.ts';
import { addEventCommands } from './events.ts';
import { addStorageInitCommand } from './storage-init.ts';
import { addLogsCommand, goBooleanFlags } from './logs.ts';
import { waitForDeployments, type WaitTarget } from './wait.ts';
import { age, parseOutput, serialise, table } from './format.ts';
import { deleteObject, deleteTargets, getAll, getObjects } from './objects.ts';
import { qualifiedName, resourceOfWord, resourceWords } from './resources.ts';
import { ROW_DATATYPES, seldonRequest, v2Request, withClient, type RowDatatype } from './predict.ts';

interface PredictFlags {
  namespace?: string;
  data: string;
  api: string;
  grpc?: boolean;
  protocol: 'seldon' | 'v2';
  model?: string;
  datatype: RowDatatype;
}

function readManifest(file: string, io: Io): { text: string; baseDir: string; source: string } {
  if (file === '-') return { text: io.readStdin(), baseDir: process.cwd(), source: 'stdin' };
  const path = resolve(file);
  try {
    return { text: readFileSync(path, 'utf8'), baseDir: dirname(path), source: file };
  } catch (err) {
    throw unreadable(`-f ${file}`, file, err);
  }
}

/** The deployment a name refers to: exact with -n, else the only one of that name in any namespace. */
async function findDeployment(info: ControlPlaneClient, name: string, namespace: string | undefined): Promise<DeploymentView> {
  if (namespace !== undefined) {
    return callApiJson<DeploymentView>(info, 'GET', `/v1/deployments/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`);
  }
  const list = await callApiJson<DeploymentList>(info, 'GET', '/v1/deployments');
  const matches = list.items.filter((d) => d.metadata.name === name);
  if (matches.length === 0) throw new CliError(`no SeldonDeployment named "${name}" in any namespace`);
  if (matches.length > 1) {
    throw new CliError(`"${name}" exists in namespaces ${matches.map((d) => d.metadata.namespace).join(', ')}; say which with -n`);
  }
  return matches[0]!;
}

function readyCount(d: DeploymentView): string {
  const ready = d.status.replicas.filter((r) => r.state === 'Ready').length;
  return `${ready}/${d.status.replicas.length}`;
}

function deploymentRows(items: readonly DeploymentView[], wide: boolean): string {
  const headers = ['NAMESPACE', 'NAME', 'STATE', 'READY', 'AGE', ...(wide ? ['URL', 'DESCRIPTION'] : [])];
  const rows = items.map((d) => [
    d.metadata.namespace,
    d.metadata.name,
    d.status.state,
    readyCount(d),
    age(d.status.createdAt),
    ...(wide ? [d.status.address.url, d.status.description ?? ''] : []),
  ]);
  return table(headers, rows);
}

function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!match) throw new CliError(`--timeout ${text}: expected a duration such as 90s, 5m or 1500ms`);
  const value = Number(match[1]);
  const unit = match[2] ?? 's';
  return unit === 'ms' ? value : unit === 'm' ? value * 60_000 : value * 1000;
}

export function buildProgram(io: Io = processIo): Command {
  const program = new Command('trantor')
    .description('Serve SeldonDeployment manifests as REST microservices, on a laptop or on Kubernetes.')
    .option('--home <dir>', 'state folder of the control plane (default: $TRANTOR_HOME or ~/.trantor)')
    .exitOverride()
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  program
    .command('apply')
    .description('apply the manifests in a file (or - for stdin)')
    .requiredOption('-f, --filename <file>', 'the manifest file, or - for stdin')
    .option('--wait', 'return once every SeldonDeployment in it is Available (exit 1 if one fails)')
    .option('--timeout <duration>', 'how long --wait waits', '300s')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['json', 'yaml', 'name']))
    .action(async (opts: { filename: string; wait?: boolean; timeout: string; output?: 'json' | 'yaml' | 'name' }, command: Command) => {
      const manifest = readManifest(opts.filename, io);
      // Validate here too, so a bad manifest fails fast with the file's name even before the server answers.
      // The replicas limit is the server's (trantor up --max-replicas): it checks that one.
      loadManifests(manifest.text, { source: manifest.source, baseDir: manifest.baseDir, maxReplicas: Number.MAX_SAFE_INTEGER });
      const info = connect(command, io);
      const result = await callApiJson<ApplyResponse>(info, 'POST', '/v1/apply', manifest.text, {
        'content-type': 'application/yaml',
        'x-trantor-base-dir': encodeURIComponent(manifest.baseDir),
        'x-trantor-source': encodeURIComponent(manifest.source),
      });
      if (opts.output === 'json' || opts.output === 'yaml') io.out(serialise(result, opts.output));
      else if (opts.output === 'name') for (const a of result.applied) io.out(qualifiedName(a.kind, a.name));
      else for (const a of result.applied) io.out(`${qualifiedName(a.kind, a.name)} ${a.action}`);
      const deployments = result.applied.filter((a) => a.kind === 'SeldonDeployment');
      if (opts.wait === true) {
        const view = (t: WaitTarget): Promise<DeploymentView> =>
          callApiJson<DeploymentView>(info, 'GET', `/v1/deployments/${encodeURIComponent(t.namespace)}/${encodeURIComponent(t.name)}`);
        // Rewritten in place only on a real terminal; captured output (tests, CI) gets plain lines.
        // A pseudo-terminal with no size (script, some CI runners) says 0 columns: then lines are not cut.
        const terminal = io === processIo && process.stderr.isTTY ? process.stderr.columns || Number.POSITIVE_INFINITY : undefined;
        await waitForDeployments(view, deployments, { timeoutMs: parseDuration(opts.timeout), write: io.err, terminalColumns: terminal });
      }
    });

  program
    .command('get')
    .description('list objects, or show one: get [sdep|triggers|brokers|services|deployments|all] [NAME]')
    .argument('[resource]', `what to list: ${resourceWords()} or all; or a SeldonDeployment name`)
    .argument('[name]', 'the object name')
    .option('-n, --namespace <ns>', 'namespace (default: all namespaces)')
    .option('-o, --output <format>', 'yaml | json | wide | name')
    .action(async (resource: string | undefined, name: string | undefined, opts: { namespace?: string; output?: string }, command: Command) => {
      const format = parseOutput(opts.output);
      const kind = resource === undefined ? undefined : resourceOfWord(resource);
      if (resource?.toLowerCase() === 'all') {
        if (name !== undefined) throw new CliError('get all takes no name');
        await getAll(connect(command, io), opts.namespace, format, io, (items) => deploymentRows(items, format === 'wide'));
        return;
      }
      if (kind !== undefined && kind.kind !== 'SeldonDeployment') {
        await getObjects(connect(command, io), kind, name, opts.namespace, format, io);
        return;
      }
      let target = name;
      if (resource !== undefined && kind === undefined) {
        if (name !== undefined) throw new CliError(`unknown resource type "${resource}"; use ${resourceWords()} or all`);
        target = resource;
      }
      const info = connect(command, io);
      if (target !== undefined) {
        const view = await findDeployment(info, target, opts.namespace);
        if (format === 'yaml' || format === 'json') io.out(serialise(view, format));
        else if (format === 'name') io.out(qualifiedName('SeldonDeployment', view.metadata.name));
        else io.out(deploymentRows([view], format === 'wide'));
        return;
      }
      const list = await callApiJson<DeploymentList>(info, 'GET', '/v1/deployments');
      const items = list.items.filter((d) => opts.namespace === undefined || d.metadata.namespace === opts.namespace);
      if (format === 'yaml' || format === 'json') io.out(serialise({ apiVersion: 'v1', kind: 'List', items }, format));
      else if (format === 'name') for (const d of items) io.out(qualifiedName('SeldonDeployment', d.metadata.name));
      else if (items.length === 0) io.err('No resources found');
      else io.out(deploymentRows(items, format === 'wide'));
    });

  program
    .command('delete')
    .description('delete objects: delete [sdep|trigger|broker|service|deployment] NAME, or delete -f FILE')
    .argument('[resource]', `${resourceWords()}; or a SeldonDeployment name`)
    .argument('[name]', 'the object name')
    .option('-n, --namespace <ns>', 'namespace (SeldonDeployments: found in any namespace; other kinds: default)')
    .option('-f, --filename <file>', 'delete what this manifest file declares')
    .action(async (resource: string | undefined, name: string | undefined, opts: { namespace?: string; filename?: string }, command: Command) => {
      const info = connect(command, io);
      if (opts.filename !== undefined) {
        const manifest = readManifest(opts.filename, io);
        const loaded = loadManifests(manifest.text, { source: manifest.source, baseDir: manifest.baseDir, maxReplicas: Number.MAX_SAFE_INTEGER });
        let missing = 0;
        for (const target of deleteTargets(loaded)) if (!(await deleteObject(info, target, io, 'report'))) missing++;
        if (missing > 0) throw new CliError(`${missing} of the objects in ${manifest.source} did not exist`);
        return;
      }
      const kind = resource === undefined ? undefined : resourceOfWord(resource);
      if (kind !== undefined && kind.kind !== 'SeldonDeployment') {
        if (name === undefined) throw new CliError(`say which ${kind.words[0] ?? kind.kind} to delete: trantor delete ${kind.words[0] ?? ''} NAME [-n NAMESPACE]`);
        const target = { resource: kind, namespace: opts.namespace ?? 'default', name };
        await deleteObject(info, target, io);
        return;
      }
      if (resource !== undefined && kind === undefined && name !== undefined) {
        throw new CliError(`unknown resource type "${resource}"; use ${resourceWords()}`);
      }
      const target = kind !== undefined ? name : resource;
      if (target === undefined) throw new CliError('say what to delete: trantor delete sdep NAME [-n NAMESPACE], trantor delete trigger NAME, or trantor delete -f FILE');
      const view = await findDeployment(info, target, opts.namespace);
      const answer = await callApi(info, 'DELETE', `/v1/deployments/${encodeURIComponent(view.metadata.namespace)}/${encodeURIComponent(view.metadata.name)}`);
      if (answer.status >= 300) throw new CliError(failureOf(answer));
      io.out(`seldondeployment.machinelearning.seldon.io "${view.metadata.name}" deleted`);
    });

  addLogsCommand(program, io, findDeployment);

  program
    .command('predict')
    .description('send a prediction request to a deployment through the gateway (REST, or gRPC with --grpc)')
    .argument('<name>', 'the deployment name')
    .option('-n, --namespace <ns>', 'namespace')
    .requiredOption(
      '-d, --data <json|@file>',
      'the request as JSON, or @FILE to read it from a file, @- from stdin (as curl). Seldon protocol: a Seldon message, e.g. \'{"data":{"ndarray":[[1,2,3,4]]}}\', or a bare array such as \'[[1,2,3,4]]\' (sent as data.ndarray). ' +
        'With --protocol v2: a V2 inference request (\'{"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}\'), or rows such as \'[[1,2,3,4]]\' sent as one input named input-0 of shape [rows, columns] and --datatype',
    )
    .option('--api <version>', 'v1.0 or v0.1 (Seldon protocol over REST)', 'v1.0')
    .option('--grpc', "call through the gateway's gRPC (seldon.protos.Seldon, or inference.GRPCInferenceService with --protocol v2) on the same address")
    .addOption(new Option('--protocol <protocol>', 'seldon, or v2 (the Open Inference Protocol)').choices(['seldon', 'v2']).default('seldon'))
    .option('--model <node>', 'v2: the model (graph node) to infer with; the graph\'s root node when not given')
    .addOption(new Option('--datatype <type>', `v2: the datatype rows are sent as (${ROW_DATATYPES.join(', ')})`).choices([...ROW_DATATYPES]).default('FP64'))
    .action(async (name: string, flags: PredictFlags, command: Command) => {
      const opts = { ...flags, data: textOrFile(flags.data, '--data', io) };
      const info = connect(command, io);
      const view = await findDeployment(info, name, opts.namespace);
      const target = { gatewayUrl: info.gatewayUrl, namespace: view.metadata.namespace, deployment: view.metadata.name };
      if (opts.protocol === 'v2') {
        const model = opts.model ?? view.spec.predictors?.[0]?.graph?.name;
        if (model === undefined) throw new CliError(`${name}: no graph node to infer with; name one with --model`);
        const { inputs, options } = v2Request(opts.data, opts.datatype);
        const result = await withClient(target, opts.grpc === true, (client) => client.infer(model, inputs, options));
        io.out(stringifyJson(result.response));
        return;
      }
      if (opts.grpc === true) {
        const message = seldonRequest(opts.data);
        const prediction = await withClient(target, true, (client) => client.predict({ message }));
        io.out(stringifyJson(prediction));
        keepLastPrediction(homeOf(command, io), io, { namespace: target.namespace, name: target.deployment, request: stringifyJson(message), response: stringifyJson(prediction) });
        return;
      }
      let body = opts.data.trim();
      if (body.startsWith('[')) body = JSON.stringify({ data: { ndarray: JSON.parse(body) as unknown } });
      const url = `${info.gatewayUrl}/seldon/${encodeURIComponent(view.metadata.namespace)}/${encodeURIComponent(view.metadata.name)}/api/${opts.api}/predictions`;
      const res = await request(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      const text = await res.body.text();
      if (res.statusCode >= 300) throw new CliError(`HTTP ${res.statusCode}: ${failureOf({ status: res.statusCode, body: text })}`);
      io.out(text);
      keepLastPrediction(homeOf(command, io), io, { namespace: target.namespace, name: target.deployment, request: body, response: text });
    });

  addFeedbackCommand(program, io, findDeployment);
  addVersionCommand(program, io);
  addCompletionCommand(program, io);
  addEventCommands(program, io);
  addStorageInitCommand(program, io);

  return program;
}

/** Runs the program and turns any failure into a message on stderr and a non-zero exit code. */
export async function runCli(program: Command, argv: readonly string[], io: Io = processIo): Promise<number> {
  try {
    // `trantor` alone (or with only --home): the help, as a success (it is what was asked for).
    const words = argv.slice(2).filter((word, i, all) => word !== '--home' && !word.startsWith('--home=') && all[i - 1] !== '--home');
    if (words.length === 0) {
      io.out(program.helpInformation().trimEnd());
      return 0;
    }
    // The completion scripts' hidden command: its words are another command line, not options of its own.
    if (argv[2] === COMPLETE_COMMAND) return await runComplete(program, argv.slice(3), io);
    await program.parseAsync(goBooleanFlags(argv));
    return 0;
  } catch (err) {
    if (err instanceof CliError) {
      io.err(`error: ${err.message}`);
      return err.exitCode;
    }
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('commander.')) return (err as { exitCode?: number }).exitCode ?? 1;
    io.err(`error: ${asTrantorError(err).message}`);
    return 1;
  }
}
