/**
 * The `trantor` program: the CLI's commands plus `up`, which runs the control plane. `up`
 * is loaded only when asked for, so the other commands start fast.
 */
import { buildProgram, processIo, runCli } from '../cli/index.ts';
import type { Command } from 'commander';
import type { UpFlags } from './config.ts';

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

program
  .command('operator')
  .description('run the Kubernetes operator: reconcile SeldonDeployments into Deployments and Services (docs/kubernetes.md)')
  .option('--namespace <list>', 'namespaces to watch, comma separated (default all, or WATCH_NAMESPACE)')
  .option('--controller-id <id>', 'reconcile only SeldonDeployments labelled seldon.io/controller-id=<id> (default: those without it, or CONTROLLER_ID)')
  .option('--values <file>', 'a YAML file of render settings: images, executor, istio, ambassador, gateway, ingress')
  .option('--set <operator.option=value>', 'one named option (repeatable)', (value: string, previous: string[] = []) => [...previous, value])
  .option('--leader-elect', 'reconcile only while holding the Lease trantor-operator, for several replicas')
  .option('--lease-namespace <ns>', 'where the Lease lives (default POD_NAMESPACE, else default)')
  .option('--log-level <level>', 'trace | debug | info | warn | error (default info)')
  .action(async (opts: import('./operator.ts').OperatorFlags) => {
    const { operator } = await import('./operator.ts');
    await operator(opts);
  });

const code = await runCli(program, process.argv);
// `up` and `operator` keep running until a signal; every other command ends here.
if (code !== 0 || (process.argv[2] !== 'up' && process.argv[2] !== 'operator')) process.exitCode = code;
