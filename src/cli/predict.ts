/**
 * `trantor predict`'s requests: `--data` read as a Seldon message or rows (Seldon's protocol), or
 * as a V2 inference request or rows turned into one V2 input (`--protocol v2`), and the answers
 * printed as JSON with every digit the gateway sent.
 */
import { SeldonClient, SeldonClientError, type V2InferInput, type V2InferRequestOptions } from '../client/index.ts';
import {
  TrantorError,
  parseJsonLossless,
  parseV2InferenceRequest,
  type SeldonMessage,
} from '../protocol/index.ts';
import { CliError } from './control-plane.ts';

/** The datatypes rows may be sent as under `--protocol v2`. */
export const ROW_DATATYPES = ['FP32', 'FP64', 'INT64'] as const;
export type RowDatatype = (typeof ROW_DATATYPES)[number];

/** The name the one input made from rows is given. */
export const ROWS_INPUT = 'input-0';

function parseData(text: string): unknown {
  try {
    return parseJsonLossless(text);
  } catch (err) {
    throw new CliError(`--data is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** `--data` as a Seldon message: a message as given, or a bare array sent as `data.ndarray`. */
export function seldonRequest(text: string): SeldonMessage {
  const value = parseData(text.trim());
  if (Array.isArray(value)) return { data: { ndarray: value } };
  if (typeof value !== 'object' || value === null) throw new CliError('--data: expected a Seldon message (a JSON object) or an array of rows');
  return value;
}

/**
 * `--data` as a V2 request: a V2 inference request (`{"inputs": [...]}`) as given, or rows (an
 * array) as one input named `input-0` of shape [rows, columns] and `datatype`.
 */
export function v2Request(text: string, datatype: RowDatatype): { inputs: V2InferInput[]; options: V2InferRequestOptions } {
  const value = parseData(text.trim());
  const request = Array.isArray(value) ? { inputs: [{ name: ROWS_INPUT, shape: shapeOf(value), datatype, data: value }] } : value;
  try {
    const parsed = parseV2InferenceRequest(request);
    const options: V2InferRequestOptions = {};
    if (parsed.id !== undefined) options.id = parsed.id;
    if (parsed.parameters !== undefined) options.parameters = parsed.parameters;
    if (parsed.outputs !== undefined) options.outputs = parsed.outputs;
    return { inputs: parsed.inputs.map((input) => ({ ...input, data: input.data ?? [] })), options };
  } catch (err) {
    if (err instanceof TrantorError) throw new CliError(`--data: ${err.message}`);
    throw err;
  }
}

/** [rows, columns] of an array of rows; [n] for a flat array (parsing names any ragged row). */
function shapeOf(rows: unknown[]): number[] {
  const first = rows[0];
  return Array.isArray(first) ? [rows.length, first.length] : [rows.length];
}

export interface PredictTarget {
  gatewayUrl: string;
  namespace: string;
  deployment: string;
}

/** A client for the call, its failures turned into the CLI's. */
export async function withClient<T>(target: PredictTarget, grpc: boolean, call: (client: SeldonClient) => Promise<T>): Promise<T> {
  const client = new SeldonClient({ gatewayEndpoint: target.gatewayUrl, namespace: target.namespace, deploymentName: target.deployment, transport: grpc ? 'grpc' : 'rest' });
  try {
    return await call(client);
  } catch (err) {
    if (err instanceof SeldonClientError) throw new CliError(err.message);
    throw err;
  } finally {
    await client.close();
  }
}
