/** What the ONNX worker thread and its owner say to each other. */
import type { OnnxTensor, OnnxValueInfo } from './tensor.ts';

export interface WorkerSettings {
  readonly file: string;
  /** ONNX Runtime's intra-op threads for one run. */
  readonly threads: number;
}

export type WorkerRequest =
  | { readonly kind: 'run'; readonly id: number; readonly feeds: Readonly<Record<string, OnnxTensor>>; readonly outputs: readonly string[] }
  | { readonly kind: 'close' };

export type WorkerReply =
  | { readonly kind: 'loaded'; readonly inputs: readonly OnnxValueInfo[]; readonly outputs: readonly OnnxValueInfo[] }
  | { readonly kind: 'failed-to-load'; readonly message: string }
  | { readonly kind: 'result'; readonly id: number; readonly outputs: Readonly<Record<string, OnnxTensor>> }
  | { readonly kind: 'run-failed'; readonly id: number; readonly message: string };
