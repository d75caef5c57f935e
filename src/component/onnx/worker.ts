/**
 * The worker thread that owns one ONNX Runtime session: the session's `run` does its work on the
 * calling thread, so it runs here and the event loop serving requests never waits on a model.
 * Requests are served one at a time in arrival order; ONNX Runtime's own intra-op threads do the
 * parallel work inside a run.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type * as Ort from 'onnxruntime-node';
import type { OnnxElementType, OnnxTensor, OnnxValueInfo } from './tensor.ts';
import type { WorkerReply, WorkerRequest, WorkerSettings } from './messages.ts';

const port = parentPort;
if (port === null) throw new Error('the ONNX worker runs as a worker thread');
const settings = workerData as WorkerSettings;

function infoOf(meta: Ort.InferenceSession.ValueMetadata): OnnxValueInfo {
  if (!meta.isTensor) return { name: meta.name, isTensor: false };
  const shape = meta.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : String(d)));
  return { name: meta.name, isTensor: true, type: meta.type as OnnxElementType, shape };
}

function toOrt(ort: typeof Ort, tensor: OnnxTensor): Ort.Tensor {
  const data = Array.isArray(tensor.data) ? [...(tensor.data as readonly string[])] : (tensor.data as Exclude<OnnxTensor['data'], readonly string[]>);
  return new ort.Tensor(tensor.type, data, [...tensor.dims]);
}

/** A copy of an output that owns its buffer, so the buffer can be transferred rather than copied again. */
function fromOrt(value: Ort.OnnxValue): OnnxTensor {
  const type = value.type as OnnxElementType;
  const data = value.data;
  const owned = Array.isArray(data) ? [...(data)] : (data).slice();
  return { type, dims: [...value.dims], data: owned };
}

function send(reply: WorkerReply, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(reply, transfer);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** onnxruntime-node is an optional dependency: without it, say what to install. */
async function runtime(): Promise<typeof Ort> {
  try {
    const loaded = (await import('onnxruntime-node')) as typeof Ort & { default?: typeof Ort };
    return loaded.default ?? loaded;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND') throw new Error('ONNX Runtime for Node is not installed: it is an optional dependency of Trantor; install it with npm install onnxruntime-node');
    throw err;
  }
}

async function main(): Promise<void> {
  let ort: typeof Ort;
  let session: Ort.InferenceSession;
  try {
    ort = await runtime();
    session = await ort.InferenceSession.create(settings.file, {
      intraOpNumThreads: settings.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
  } catch (err) {
    send({ kind: 'failed-to-load', message: messageOf(err) });
    return;
  }
  send({ kind: 'loaded', inputs: session.inputMetadata.map(infoOf), outputs: session.outputMetadata.map(infoOf) });

  // One run at a time: a queue of promises keeps arrival order without blocking message delivery.
  let tail: Promise<void> = Promise.resolve();
  port!.on('message', (request: WorkerRequest) => {
    if (request.kind === 'close') {
      tail = tail.then(() => session.release()).finally(() => port!.close());
      return;
    }
    tail = tail.then(async () => {
      try {
        const feeds: Record<string, Ort.Tensor> = {};
        for (const [name, tensor] of Object.entries(request.feeds)) feeds[name] = toOrt(ort, tensor);
        const results = await session.run(feeds, [...request.outputs]);
        const outputs: Record<string, OnnxTensor> = {};
        const transfer: ArrayBuffer[] = [];
        for (const name of request.outputs) {
          const value = results[name];
          if (value === undefined) continue;
          const tensor = fromOrt(value);
          outputs[name] = tensor;
          if (!Array.isArray(tensor.data)) transfer.push((tensor.data as Float32Array).buffer as ArrayBuffer);
        }
        send({ kind: 'result', id: request.id, outputs }, transfer);
      } catch (err) {
        send({ kind: 'run-failed', id: request.id, message: messageOf(err) });
      }
    });
  });
}

void main();
