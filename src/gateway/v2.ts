/**
 * The gateway's Open Inference Protocol (V2) answers that are not an inference: health, server
 * and model metadata, model readiness, each from the deployment's primary predictor's V2 face.
 * A deployment that speaks the Seldon protocol has no V2 face: its V2 paths answer 404 saying so,
 * and a V2 deployment's Seldon paths the same (`seldonOnly`).
 */
import { packageVersion } from '../manifest/index.ts';
import { TrantorError, type V2ServerMetadata } from '../protocol/index.ts';
import type { CallLimits } from '../executor/index.ts';
import type { DeploymentEntry } from './deployments.ts';
import type { GatewayPredictor, V2Predictor } from './predictor.ts';
import { primaryOf } from './traffic.ts';

/** A V2 route's answer: its status and JSON body. */
export interface V2Answer {
  readonly status: number;
  readonly body: unknown;
}

/** The extensions the gateway's V2 REST speaks. */
export const V2_EXTENSIONS: readonly string[] = Object.freeze(['binary_tensor_data']);

/** Trantor's version (manifest's packageVersion: read once from package.json). */
const SERVER_VERSION = packageVersion();

function label(entry: DeploymentEntry): string {
  return `SeldonDeployment ${entry.namespace}/${entry.name}`;
}

/** The predictor's V2 face; 404 naming `protocol: v2` when the deployment speaks the Seldon protocol. */
export function v2Of(entry: DeploymentEntry, predictor: GatewayPredictor): V2Predictor {
  const v2 = predictor.v2;
  if (predictor.protocol !== 'v2' || v2 === undefined) {
    throw new TrantorError(
      'NOT_FOUND',
      `${label(entry)} speaks the Seldon protocol (protocol: seldon): its predictions go to /api/v1.0/predictions; V2 paths (/v2/…) are served for deployments with spec.protocol: v2`,
    );
  }
  return v2;
}

/** Refuses a Seldon-protocol request (predictions, feedback) to a `protocol: v2` deployment, saying where V2 requests go. */
export function seldonOnly(entry: DeploymentEntry, predictor: GatewayPredictor): void {
  if (predictor.protocol === 'v2') {
    throw new TrantorError(
      'NOT_FOUND',
      `${label(entry)} speaks the Open Inference Protocol (protocol: v2): send inference requests to /v2/models/<model>/infer, not the Seldon protocol's /api/v1.0/ paths`,
    );
  }
}

function primaryV2(entry: DeploymentEntry): V2Predictor {
  return v2Of(entry, primaryOf(entry));
}

export function v2Live(entry: DeploymentEntry): Promise<V2Answer> {
  return Promise.resolve().then(() => {
    primaryV2(entry);
    return { status: 200, body: { live: true } };
  });
}

export async function v2ServerReady(entry: DeploymentEntry, limits: CallLimits): Promise<V2Answer> {
  const ready = await primaryV2(entry).serverReady(limits);
  if (!ready) throw new TrantorError('UNAVAILABLE', `${label(entry)} is not ready: not every model of its graph answers ready`);
  return { status: 200, body: { ready: true } };
}

export function v2ServerMetadata(entry: DeploymentEntry): Promise<V2Answer> {
  return Promise.resolve().then(() => {
    primaryV2(entry);
    const body: V2ServerMetadata = { name: 'trantor', version: SERVER_VERSION, extensions: [...V2_EXTENSIONS] };
    return { status: 200, body };
  });
}

export async function v2ModelReady(entry: DeploymentEntry, model: string, version: string | undefined, limits: CallLimits): Promise<V2Answer> {
  const ready = await primaryV2(entry).modelReady(model, version, limits);
  if (!ready) throw new TrantorError('UNAVAILABLE', `model "${model}" of ${label(entry)} is not ready`);
  return { status: 200, body: { name: model, ready: true } };
}

export async function v2ModelMetadata(entry: DeploymentEntry, model: string, version: string | undefined, limits: CallLimits): Promise<V2Answer> {
  return { status: 200, body: await primaryV2(entry).modelMetadata(model, version, limits) };
}
