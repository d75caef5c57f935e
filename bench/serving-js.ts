/**
 * What Trantor's own code costs per in-process no-op prediction, without the kernel: the real
 * gateway, executor, in-process transport and component dispatcher of a build, fed raw HTTP
 * requests through in-memory connections (a node:http server takes any duplex stream as a
 * connection), 16 of them, each sending its next request when its answer is written. Prints the
 * process's CPU µs per request over rounds of 48,000 requests. Loopback sockets and the scheduler
 * are left out, so the figure moves by a few percent between runs where `bench/serving-cpu.ts`
 * moves by ten or more; it does include node's HTTP parsing and answering.
 *
 * `node --import tsx bench/serving-js.ts [build dir…]` (default: this checkout; `npm run build`
 * first): each build runs in a process of its own, the builds taking turns for `BENCH_ROUNDS`
 * rounds (default 3), each process measuring `BENCH_SAMPLES` rounds of requests (default 5).
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { Duplex } from 'node:stream';
import { pathToFileURL } from 'node:url';
import type * as ComponentModule from '../src/component/index.ts';
import type * as ExecutorModule from '../src/executor/index.ts';
import type * as GatewayModule from '../src/gateway/index.ts';
import type { Predictor } from '../src/manifest/index.ts';

const ROOT = resolve(import.meta.dirname, '..');
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const CONNECTIONS = 16;
const PER_CONNECTION = 3_000;
/** Rounds of 48,000 requests measured per process (after one not measured). */
const SAMPLES = Number(process.env['BENCH_SAMPLES'] ?? 5);
const BODY = '{"data":{"ndarray":[[1,2,3,4]]}}';

async function load<T>(dir: string, module: string): Promise<T> {
  return (await import(pathToFileURL(resolve(dir, 'dist', module, 'index.js')).href)) as T;
}

/** An in-memory connection: requests pushed in, answers counted as node writes them out. */
class Connection extends Duplex {
  readonly remoteAddress = '127.0.0.1';
  readonly localAddress = '127.0.0.1';
  private answered: (() => void) | undefined;

  constructor(readonly localPort: number) {
    super();
  }

  override _read(): void {}

  override _write(_chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.settle();
    done();
  }

  override _writev(_chunks: unknown[], done: () => void): void {
    this.settle();
    done();
  }

  setTimeout(): this {
    return this;
  }

  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }

  /** Sends a request; resolves when node has written its answer (one write per answer here). */
  send(request: Buffer): Promise<void> {
    return new Promise((done) => {
      this.answered = done;
      this.push(request);
    });
  }

  private settle(): void {
    const answered = this.answered;
    this.answered = undefined;
    answered?.();
  }
}

/** Measures one build in this process; prints `µs/request` figures, one per round. */
async function measure(dir: string): Promise<void> {
  const executor = await load<typeof ExecutorModule>(dir, 'executor');
  const { createDispatcher } = await load<typeof ComponentModule>(dir, 'component');
  const { createGateway } = await load<typeof GatewayModule>(dir, 'gateway');
  const dispatcher = createDispatcher({ predict: (X: ComponentModule.Features) => X }, { name: 'NoopModel', unitId: 'noop' });
  const component = { handle: (method: ExecutorModule.ComponentMethod, payload: unknown) => dispatcher.handle(method === 'health' ? 'healthStatus' : method, payload) };
  const transport = new executor.InProcessTransport({ componentOf: () => component }, new executor.HttpTransport({ endpoints: { replicasOf: () => [] } }));
  const predictor: Predictor = {
    name: 'default',
    graph: { name: 'noop', type: 'MODEL', endpoint: { type: 'REST' }, parameters: [], children: [] },
    componentSpecs: [{ containers: [{ name: 'noop', image: 'noop:1', env: [] }] }],
    replicas: 1,
    traffic: 100,
    shadow: false,
    labels: {},
    annotations: {},
  };
  const metrics = new executor.Metrics({});
  const entry = { namespace: 'default', name: 'noop', executors: [new executor.PredictorExecutor({ namespace: 'default', deployment: 'noop', predictor, transport, metrics })] };
  const gateway = await createGateway({ host: '127.0.0.1', port: 0, deployments: { lookup: (ns, name) => (ns === 'default' && name === 'noop' ? entry : undefined) }, metrics });
  const request = Buffer.from(
    `POST /seldon/default/noop/api/v1.0/predictions HTTP/1.1\r\nHost: 127.0.0.1:${gateway.port}\r\nContent-Type: application/json\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY}`,
  );
  const connections = Array.from({ length: CONNECTIONS }, () => {
    const connection = new Connection(gateway.port);
    gateway.server.emit('connection', connection);
    return connection;
  });
  const round = (n: number): Promise<unknown> =>
    Promise.all(
      connections.map(async (connection) => {
        for (let i = 0; i < n; i++) await connection.send(request);
      }),
    );
  await round(PER_CONNECTION);
  const figures: string[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const before = process.cpuUsage();
    await round(PER_CONNECTION);
    const used = process.cpuUsage(before);
    figures.push(((used.user + used.system) / (CONNECTIONS * PER_CONNECTION)).toFixed(2));
  }
  console.log(`${dir}: ${figures.join(' ')} µs/request`);
  process.exit(0);
}

const one = process.argv.indexOf('--one');
if (one !== -1) {
  await measure(process.argv[one + 1]!);
} else {
  const dirs = process.argv.length > 2 ? process.argv.slice(2).map((d) => resolve(d)) : [ROOT];
  for (let round = 0; round < ROUNDS; round++) {
    for (const dir of round % 2 === 0 ? dirs : [...dirs].reverse()) {
      const run = spawnSync(process.execPath, ['--import', 'tsx', import.meta.filename, '--one', dir], { stdio: 'inherit' });
      if (run.status !== 0) process.exit(run.status ?? 1);
    }
  }
}
