/**
 * An ONNX model served from a worker thread (`worker.ts`): `load` starts the worker and waits for
 * the session; `run` posts the feeds and resolves with the outputs, so a long run never blocks the
 * event loop. A worker that dies (a native crash, an out-of-memory kill of the thread) fails the
 * runs in flight with the reason and is started again on the next run.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { TrantorError } from '../../protocol/index.ts';
import { MicroserviceError } from '../errors.ts';
import type { WorkerReply, WorkerRequest, WorkerSettings } from './messages.ts';
import type { OnnxTensor, OnnxValueInfo } from './tensor.ts';

export interface OnnxModelOptions {
  /** ONNX Runtime's threads for one run; default: half the cores (the other half serves requests), at least 1. */
  readonly threads?: number;
}

interface Pending {
  readonly resolve: (outputs: Readonly<Record<string, OnnxTensor>>) => void;
  readonly reject: (err: Error) => void;
}

/**
 * The worker beside this module: the compiled file in dist; under tsx (tests, a source checkout)
 * the TypeScript source, imported after registering tsx in the worker, whose loader hooks a
 * worker does not inherit.
 */
function newWorker(settings: WorkerSettings): Worker {
  // The URL's path, not the URL: tsx's scoped import (the Node host's loader) adds a query to it.
  if (!new URL(import.meta.url).pathname.endsWith('.ts')) return new Worker(new URL('./worker.js', import.meta.url), { workerData: settings });
  const source = JSON.stringify(new URL('./worker.ts', import.meta.url).href);
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  return new Worker(`import(${tsx}).then((tsx) => { tsx.register(); return import(${source}); })`, { eval: true, workerData: settings });
}

interface Started {
  readonly worker: Worker;
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
}

function start(settings: WorkerSettings, onReply: (reply: WorkerReply) => void, onGone: (reason: string) => void): Promise<Started> {
  return new Promise((resolve, reject) => {
    const worker = newWorker(settings);
    let loaded = false;
    worker.on('message', (reply: WorkerReply) => {
      if (reply.kind === 'loaded') {
        loaded = true;
        resolve({ worker, inputs: reply.inputs, outputs: reply.outputs });
      } else if (reply.kind === 'failed-to-load') {
        void worker.terminate();
        reject(new TrantorError('BAD_MANIFEST', `cannot load the ONNX model ${settings.file}: ${reply.message}`));
      } else {
        onReply(reply);
      }
    });
    worker.on('error', (err) => {
      if (!loaded) reject(new TrantorError('BAD_MANIFEST', `cannot load the ONNX model ${settings.file}: ${err.message}`));
      else onGone(err.message);
    });
    worker.on('exit', (code) => {
      if (!loaded) reject(new TrantorError('BAD_MANIFEST', `cannot load the ONNX model ${settings.file}: its worker exited with code ${code}`));
      else onGone(`its worker exited with code ${code}`);
    });
  });
}

export class OnnxModel {
  readonly file: string;
  /** The inputs and outputs the model declares, in its order. */
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
  readonly #settings: WorkerSettings;
  readonly #pending = new Map<number, Pending>();
  #worker: Worker | undefined;
  #starting: Promise<Worker> | undefined;
  #nextId = 1;
  #closed = false;

  private constructor(settings: WorkerSettings, started: Started) {
    this.file = settings.file;
    this.#settings = settings;
    this.inputs = started.inputs;
    this.outputs = started.outputs;
    this.#adopt(started.worker);
  }

  static async load(file: string, options: OnnxModelOptions = {}): Promise<OnnxModel> {
    const threads = options.threads ?? Math.max(1, Math.floor(availableParallelism() / 2));
    const settings: WorkerSettings = { file, threads };
    // The worker's replies reach the model once it exists (none come before it is loaded).
    const owner: { model?: OnnxModel } = {};
    const started = await start(
      settings,
      (reply) => {
        if (owner.model) owner.model.#settle(reply);
      },
      (reason) => {
        if (owner.model) owner.model.#gone(reason);
      },
    );
    owner.model = new OnnxModel(settings, started);
    return owner.model;
  }

  /** Runs the model: `feeds` by input name; `outputs` the names wanted (default: every tensor output). */
  async run(feeds: Readonly<Record<string, OnnxTensor>>, outputs?: readonly string[]): Promise<Readonly<Record<string, OnnxTensor>>> {
    if (this.#closed) throw new TrantorError('UNAVAILABLE', `the ONNX model ${this.file} is closed`);
    const wanted = outputs ?? this.outputs.filter((o) => o.isTensor).map((o) => o.name);
    const worker = this.#worker ?? (await this.#restart());
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      if (this.#pending.size === 0) worker.ref();
      this.#pending.set(id, { resolve, reject });
      const request: WorkerRequest = { kind: 'run', id, feeds, outputs: wanted };
      worker.postMessage(request);
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const worker = this.#worker;
    this.#worker = undefined;
    if (worker === undefined) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.ref();
    const request: WorkerRequest = { kind: 'close' };
    worker.postMessage(request);
    await exited;
  }

  #adopt(worker: Worker): void {
    this.#worker = worker;
    // Idle, the worker must not keep the process alive; it is referenced while runs are pending.
    worker.unref();
  }

  #settle(reply: WorkerReply): void {
    if (reply.kind !== 'result' && reply.kind !== 'run-failed') return;
    const pending = this.#pending.get(reply.id);
    if (pending === undefined) return;
    this.#pending.delete(reply.id);
    if (this.#pending.size === 0) this.#worker?.unref();
    if (reply.kind === 'result') pending.resolve(reply.outputs);
    else pending.reject(new MicroserviceError(`the ONNX model refused the inputs: ${reply.message}`, 400));
  }

  #gone(reason: string): void {
    this.#worker = undefined;
    const failure = new TrantorError('MODEL_ERROR', `the ONNX model ${this.file} stopped (${reason}); it is loaded again for the next request`);
    for (const pending of this.#pending.values()) pending.reject(failure);
    this.#pending.clear();
  }

  #restart(): Promise<Worker> {
    this.#starting ??= start(
      this.#settings,
      (reply) => this.#settle(reply),
      (reason) => this.#gone(reason),
    )
      .then((started) => {
        this.#adopt(started.worker);
        return started.worker;
      })
      .finally(() => {
        this.#starting = undefined;
      });
    return this.#starting;
  }
}
