/**
 * A small real V2 model server for tests: `node:http`, answering the Open Inference Protocol's
 * REST paths for a few models that compute their answers, so a test sees the chain's arithmetic.
 *
 * - `double-<x>` / any name starting `double`: every input's numbers times 2, same names.
 * - names starting `plus`: every input's numbers plus 1.
 * - names starting `fail`: 422 `{"error": "input rows must have 4 columns"}`.
 * - names starting `hang`: never answers an inference.
 * - names starting `down`: not ready (503), metadata 503.
 */
import type { ServerResponse } from 'node:http';
import { parseJsonLossless, stringifyJson } from '../../protocol/index.ts';
import { answerJson, standIn, type ComponentRequest, type StandIn } from '../testing.ts';

interface JsonTensor {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
  parameters?: Record<string, unknown>;
}

function mapNumbers(data: unknown[], f: (x: number) => number): unknown[] {
  return data.map((x) => (Array.isArray(x) ? mapNumbers(x, f) : typeof x === 'number' ? f(x) : x));
}

export const V2_MODEL_ERROR = 'input rows must have 4 columns';

function infer(model: string, request: ComponentRequest, res: ServerResponse): void {
  if (model.startsWith('fail')) return answerJson(res, 422, { error: V2_MODEL_ERROR });
  if (model.startsWith('hang')) return;
  const body = parseJsonLossless(request.body) as { id?: string; inputs: JsonTensor[] };
  const f = model.startsWith('double') ? (x: number) => x * 2 : model.startsWith('plus') ? (x: number) => x + 1 : (x: number) => x;
  const outputs = body.inputs.map((input) => ({ name: input.name, shape: input.shape, datatype: input.datatype, data: mapNumbers(input.data, f) }));
  answerJson(res, 200, stringifyJson({ model_name: model, model_version: '1', ...(body.id === undefined ? {} : { id: body.id }), outputs }));
}

/** Starts the server; `received` records every request (path, body, headers). */
export function v2StandIn(): Promise<StandIn> {
  return standIn((request, res) => {
    const match = /^\/v2\/models\/([^/]+)(\/ready|\/infer)?$/.exec(request.path);
    if (match === null) return answerJson(res, 404, { error: `no route ${request.path}` });
    const model = decodeURIComponent(match[1]!);
    const action = match[2];
    if (action === '/infer' && request.method === 'POST') return infer(model, request, res);
    if (model.startsWith('down')) return answerJson(res, 503, { error: `model ${model} is not ready` });
    if (action === '/ready') return answerJson(res, 200, '');
    answerJson(res, 200, {
      name: model,
      versions: ['1'],
      platform: 'trantor-test',
      inputs: [{ name: 'x', datatype: 'FP64', shape: [-1, 4] }],
      outputs: [{ name: 'x', datatype: 'FP64', shape: [-1, 4] }],
    });
  });
}
