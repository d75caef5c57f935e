/**
 * The `trantor` program: the CLI's commands plus `up`, which runs the control plane. `up`
 * is loaded only when asked for, so the other commands start fast.
 */
import { buildProgram, processIo, runCli } from '../cli/index.ts';
import type { Command } from 'commander';
import type { UpFlags } from './config.ts';
import type { ExecutorFlags } from './executor-main.ts';

const program = buildProgram(processIo);
program
  .command('up')
  .description('run the control plane (API, gateway, components) in the foreground')
  .option('--port <n>', 'gateway port on 127.0.0.1 (default 8000, or TRANTOR_PORT)')
  .option('--host <address>', 'address the gateway binds (default 127.0.0.1)')
  .option('--body-limit <size>', 'largest request body the gateway accepts (default 10mb)')
  .option('--request-timeout <duration>', 'how long a prediction may take (default 30s)')
  .option('--log-level <level>', 'trace | debug | info | warn | error (default info)')
  .option('--cors-allowed-origins <list>', 'web pages (origins, comma separated) allowed to call the gateway and broker, with CORS answers (default none)')
  .option('--allowed-hosts <list>', 'further Host names (comma separated) the gateway answers for (default: its own address and loopback names)')
  .option('--max-replicas <n>', 'most replicas (processes) a predictor or componentSpec may ask for (default 64, or TRANTOR_MAX_REPLICAS)')
  .option('--durability <mode>', 'what an accepted event survives: process (a crash; default, or TRANTOR_DURABILITY) or fsync (a power loss too)')
  .option('--startup-timeout <duration>', "how long a replica may take to answer its first health check, unless its container's startupProbe says (default 60s, or TRANTOR_STARTUP_TIMEOUT)")
  .option('--config <file>', 'a YAML file of named options: timeouts, windows, queue sizes, limits (docs/configuration.md; or TRANTOR_CONFIG)')
  .option('--set <section.option=value>', 'one named option, over the file (repeatable)', (value: string, previous: string[] = []) => [...previous, value])
  .action(async (opts: Omit<UpFlags, 'home' | 'timeout'> & { requestTimeout?: string }, command: Command) => {
    const { up } = await import('./up.ts');
    const home = command.optsWithGlobals<{ home?: string }>().home;
    const { requestTimeout, ...rest } = opts;
    await up({ ...rest, ...(home === undefined ? {} : { home }), ...(requestTimeout === undefined ? {} : { timeout: requestTimeout }) });
  });

/**
 * The flags every command run in a pod takes besides its own; Seldon's other executor arguments
 * (kafka_*, log_kafka_*, debug…) are taken and named as ignored.
 */
function withPodFlags(command: Command): Command {
  return command
    .option('--log_level <level>', 'trace | debug | info | warn | error (default info)')
    .option('--host <address>', 'the address to bind (default 0.0.0.0)')
    .option('--config <file>', 'a YAML file of named options (docs/configuration.md)')
    .option('--set <section.option=value>', 'one named option, over the file (repeatable)', (value: string, previous: string[] = []) => [...previous, value])
    .allowUnknownOption()
    .allowExcessArguments();
}

withPodFlags(
  program
    .command('executor')
    .description("serve one predictor's graph inside its Kubernetes pod, as Seldon's executor (reads ENGINE_PREDICTOR)")
    .option('--sdep <name>', 'the SeldonDeployment')
    .option('--namespace <ns>', 'its namespace')
    .option('--predictor <name>', 'the predictor (ENGINE_PREDICTOR holds it)')
    .option('--file <path>', "the predictor's JSON in a file, instead of ENGINE_PREDICTOR")
    .option('--http_port <n>', 'the port to serve on (default 8000; 0 picks a free one)')
    .option('--grpc_port <n>', "gRPC (Seldon's service, V2, health, reflection) on this port too; always on the HTTP port")
    .option('--protocol <name>', 'seldon (default; the only one served)')
    .option('--transport <name>', 'rest (default; the only one served)')
    .option('--server_type <type>', 'rpc (default; kafka is not served)')
    .option('--prometheus_path <path>', 'metrics are served at /prometheus')
    .option('--log_work_buffer_size <n>', 'request-logger events waiting per logger URL (executor.loggerQueue)')
    .option('--log_write_timeout_ms <n>', 'how long sending one request-logger event may take (executor.loggerTimeout)')
    .option('--full_health_checks [bool]', "/ready calls each component's /health/status (true) or opens a TCP connection to it (false, default)"),
).action(async (opts: ExecutorFlags, command: Command) => {
  const { runPodExecutor } = await import('./executor-main.ts');
  await runPodExecutor(opts, process.env, command.args);
});

withPodFlags(
  program
    .command('gateway')
    .description("serve one SeldonDeployment's /seldon/<ns>/<sdep>/ paths in front of its predictors' executors on Kubernetes (reads TRANTOR_GATEWAY_PREDICTORS)")
    .option('--sdep <name>', 'the SeldonDeployment')
    .option('--namespace <ns>', 'its namespace')
    .option('--http_port <n>', 'the port to serve on (default 8000; 0 picks a free one)')
    .option('--grpc_port <n>', "gRPC (Seldon's service, V2, health, reflection) on this port too; always on the HTTP port"),
).action(async (opts: import('./gateway-main.ts').GatewayFlags, command: Command) => {
  const { runGateway } = await import('./gateway-main.ts');
  await runGateway(opts, process.env, command.args);
});

program
  .command('operator')
  .description('run the Kubernetes operator: reconcile SeldonDeployments into Deployments and Services (docs/kubernetes.md)')
  .option('--namespaces, --namespace <list>', 'namespaces to watch, comma separated (default all, or WATCH_NAMESPACE)')
  .option('--controller-id <id>', 'reconcile only SeldonDeployments labelled seldon.io/controller-id=<id> (default: those without it, or CONTROLLER_ID)')
  .option('--config, --values <file>', "render settings, YAML or JSON: images, executor, istio, ambassador, gateway, ingress (the chart's render.json)")
  .option('--set <operator.option=value>', 'one named option (repeatable)', (value: string, previous: string[] = []) => [...previous, value])
  .option('--leader-elect [bool]', 'reconcile only while holding the Lease, for several replicas (true when given without a value)')
  .option('--leader-election-id <name>', 'the Lease (default trantor-operator)')
  .option('--lease-namespace <ns>', 'where the Lease lives (default POD_NAMESPACE, else default)')
  .option('--log-level <level>', 'trace | debug | info | warn | error (default info)')
  .option('--metrics-port <port>', '/healthz, /readyz and /metrics over HTTP on this port')
  .option('--webhook-port <port>', 'serve the admission webhook over HTTPS on this port (every replica)')
  .option('--webhook-configuration <name>', 'the ValidatingWebhookConfiguration whose caBundle the self-managed CA goes into')
  .option('--webhook-service <name>', "the webhook's Service (its DNS names go into the self-managed certificate)")
  .option('--webhook-certs <mode>', 'self (default: the operator makes and rotates its certificate) or certManager')
  .option('--webhook-secret <name>', "with self: the Secret in the operator's namespace that keeps the CA and the certificate")
  .option('--webhook-cert-dir <dir>', 'with certManager: the directory holding tls.crt and tls.key (a renewal there is served at once)')
  .action(async (opts: import('./operator.ts').OperatorFlags) => {
    const { operator } = await import('./operator.ts');
    await operator(opts);
  });

const code = await runCli(program, process.argv);
// `up`, `executor`, `gateway` and `operator` keep running until a signal; every other command ends here.
if (code !== 0 || !['up', 'executor', 'gateway', 'operator'].includes(process.argv[2] ?? '')) process.exitCode = code;
