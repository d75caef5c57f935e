/**
 * The `trantor` command line (kubectl-like). Every command but `up` talks to a running control
 * plane over HTTP; `up` is added by the server's entry point, which owns the process.
 */
import { Command, Option } from 'commander';
import { request } from 'undici';
import type { ControlPlaneClient } from '../client/index.ts';
import type { DeploymentList, DeploymentView } from '../manifest/index.ts';
import { asTrantorError, stringifyJson } from '../protocol/index.ts';
import { callApi, callApiJson, CliError, failureOf } from './control-plane.ts';
import { connect, homeOf, processIo, type Io } from './io.ts';
import { textOrFile } from './files.ts';
import { addFeedbackCommand, keepLastPrediction } from './feedback.ts';
import { addVersionCommand } from './version.ts';
import { addDashboardCommand } from './dashboard.ts';
import { addCompletionCommand, COMPLETE_COMMAND, runComplete } from './completion.ts';
import { addEventCommands } from './events.ts';
import { addStorageInitCommand } from './storage-init.ts';
import { addLogsCommand, goBooleanFlags } from './logs.ts';
import { waitForDeployments, type WaitTarget } from './wait.ts';
import { addStorageCommands } from './storage.ts';
import { addApplyCommand, collect, readAndPrepare } from './apply.ts';
import { addDiffCommand } from './diff.ts';
import { addDescribeCommand } from './describe.ts';
import { deleteObject, deleteTargets } from './objects.ts';
import { addGetCommand } from './get.ts';
import { resourceOfWord, resourceWords } from './resources.ts';
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

/** `apply --wait`: the deployments awaited with wait.ts's progress display. */
function waitWithProgress(info: ControlPlaneClient, targets: readonly WaitTarget[], timeoutMs: number, io: Io): Promise<void> {
  const view = (t: WaitTarget): Promise<DeploymentView> =>
    callApiJson<DeploymentView>(info, 'GET', `/v1/deployments/${encodeURIComponent(t.namespace)}/${encodeURIComponent(t.name)}`);
  // Rewritten in place only on a real terminal; captured output (tests, CI) gets plain lines.
  // A pseudo-terminal with no size (script, some CI runners) says 0 columns: then lines are not cut.
  const terminal = io === processIo && process.stderr.isTTY ? process.stderr.columns || Number.POSITIVE_INFINITY : undefined;
  return waitForDeployments(view, targets, { timeoutMs, write: io.err, terminalColumns: terminal });
}

export function buildProgram(io: Io = processIo): Command {
  const program = new Command('trantor')
    .description('Serve SeldonDeployment manifests as REST microservices, on a laptop or on Kubernetes.')
    .option('--home <dir>', 'state folder of the control plane (default: $TRANTOR_HOME or ~/.trantor)')
    .exitOverride()
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  addApplyCommand(program, io, waitWithProgress);
  addDashboardCommand(program, io);
  addDiffCommand(program, io);

  addGetCommand(program, io);

  program
    .command('delete')
    .description('delete objects: delete [sdep|trigger|broker|service|deployment] NAME, delete TYPE/NAME, or delete -f FILE|DIR|-')
    .argument('[resource]', `${resourceWords()}; or a SeldonDeployment name`)
    .argument('[name]', 'the object name')
    .option('-n, --namespace <ns>', 'namespace (SeldonDeployments: found in any namespace; other kinds: default)')
    .option('-f, --filename <file>', 'delete what a manifest file, a folder of them (.yaml, .yml, .json) or - (stdin) declares; repeat for more', collect, [])
    .option('-R, --recursive', 'read the folders given with -f and their subfolders')
    .action(async (resource: string | undefined, name: string | undefined, opts: { namespace?: string; filename: string[]; recursive?: boolean }, command: Command) => {
      if (opts.filename.length > 0) {
        if (resource !== undefined) throw new CliError(`delete -f takes no names: the manifests say what to delete (got "${resource}")`);
        // As apply reads them: every file checked before anything is deleted; -n is the namespace of objects that name none.
        const prepared = readAndPrepare({ filename: opts.filename, ...(opts.recursive === true ? { recursive: true } : {}), ...(opts.namespace === undefined ? {} : { namespace: opts.namespace }) }, io);
        const info = connect(command, io);
        let missing = 0;
        for (const target of deleteTargets(prepared.loaded)) if (!(await deleteObject(info, target, io, 'report'))) missing++;
        if (missing > 0) throw new CliError(`${missing} of the objects in ${prepared.sources} did not exist`);
        return;
      }
      const info = connect(command, io);
      // TYPE/NAME, as `get -o name` prints it.
      const slash = resource?.indexOf('/') ?? -1;
      if (resource !== undefined && slash !== -1) {
        if (name !== undefined) throw new CliError(`"${resource}" names its type already: trantor delete ${resource}, without "${name}"`);
        [resource, name] = [resource.slice(0, slash), resource.slice(slash + 1)];
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
  addStorageCommands(program, io);
  addDescribeCommand(program, io);

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
      // An empty message is an answer given by the exit code alone (diff's 1: different).
      if (err.message !== '') io.err(`error: ${err.message}`);
      return err.exitCode;
    }
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('commander.')) return (err as { exitCode?: number }).exitCode ?? 1;
    io.err(`error: ${asTrantorError(err).message}`);
    return 1;
  }
}
