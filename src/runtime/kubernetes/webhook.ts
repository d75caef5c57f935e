/**
 * The validating admission webhook: an AdmissionReview (admission.k8s.io/v1) for a SeldonDeployment
 * in, a verdict out. The object is read by the same reader as `trantor apply` and the reconcile
 * (`readLive`), then rendered with the operator's settings, so what the webhook admits the reconcile
 * can make, and what it refuses is refused with every problem by field path, at once. What it admits
 * but Trantor does not act on (an explainer, Seldon's separate-pod annotation, `spec.replicas`) comes
 * back as warnings, which kubectl prints. A review that is not one (not JSON, no request, no uid) is
 * answered 400, never a crash.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ManifestError, type SeldonDeployment } from '../../manifest/index.ts';
import type { LiveObject } from './client.ts';
import type { RenderConfig } from './config.ts';
import { RenderError } from './objects.ts';
import { readLive } from './reconcile.ts';
import { render } from './render.ts';

/** Where the chart's ValidatingWebhookConfiguration sends SeldonDeployment writes (Seldon's path). */
export const WEBHOOK_PATH = '/validate-machinelearning-seldon-io-v1-seldondeployment';

export type AdmissionResult = 'allowed' | 'denied' | 'malformed';

export interface AdmissionVerdict {
  /** The HTTP status of the answer: 200 for a verdict, 400 for a review that is not one. */
  readonly httpStatus: number;
  readonly body: unknown;
  readonly result: AdmissionResult;
}

interface AdmissionRequest {
  uid: string;
  operation?: string;
  namespace?: string;
  name?: string;
  object?: unknown;
}

/** The refusal's status code: Kubernetes' own for an object that fails validation. */
const INVALID = { code: 422, reason: 'Invalid' } as const;

/** Judges one AdmissionReview (already parsed from JSON). */
export function admissionReview(review: unknown, config: RenderConfig): AdmissionVerdict {
  const request = requestOf(review);
  if (typeof request === 'string') return { httpStatus: 400, result: 'malformed', body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 400, reason: 'BadRequest', message: `not an AdmissionReview: ${request}` } };
  const answer = (response: Record<string, unknown>): unknown => ({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: request.uid, ...response } });
  // A DELETE (or CONNECT) carries no new object: nothing to validate.
  if (request.object === undefined || request.object === null) return { httpStatus: 200, result: 'allowed', body: answer({ allowed: true }) };
  const judged = judge(request, config);
  if (typeof judged === 'string') return { httpStatus: 200, result: 'denied', body: answer({ allowed: false, status: { status: 'Failure', ...INVALID, message: judged } }) };
  const warnings = warningsOf(judged, request.object);
  return { httpStatus: 200, result: 'allowed', body: answer({ allowed: true, ...(warnings.length === 0 ? {} : { warnings }) }) };
}

/** Seldon's annotation asking for the executor in a pod of its own. */
const ENGINE_SEPARATE_POD = 'seldon.io/engine-separate-pod';

/** What is admitted but not acted on, each by field path (short: the API server may cut a warning past 120 characters). */
function warningsOf(sdep: SeldonDeployment, object: { spec?: unknown }): string[] {
  const warnings: string[] = [];
  if (isRecord(object.spec) && object.spec['replicas'] !== undefined) warnings.push('spec.replicas: not applied yet; set spec.predictors[].replicas');
  const annotated: [string, Record<string, string>][] = [
    ['metadata.annotations', sdep.metadata.annotations],
    ['spec.annotations', sdep.spec.annotations],
    ...sdep.spec.predictors.map((p, i): [string, Record<string, string>] => [`spec.predictors[${i}].annotations`, p.annotations]),
  ];
  for (const [path, annotations] of annotated) {
    if (annotations[ENGINE_SEPARATE_POD] !== undefined) warnings.push(`${path}: ${ENGINE_SEPARATE_POD} is not supported yet and is ignored`);
  }
  for (const [i, predictor] of sdep.spec.predictors.entries()) {
    if (predictor.explainer !== undefined) warnings.push(`spec.predictors[${i}].explainer: kept, not run (Trantor runs no explainers yet)`);
  }
  return warnings;
}

/** The request of a review, or why it is not one. */
function requestOf(review: unknown): AdmissionRequest | string {
  if (!isRecord(review)) return 'expected a JSON object';
  if (review['kind'] !== 'AdmissionReview') return `kind is ${JSON.stringify(review['kind'])}, expected "AdmissionReview"`;
  if (review['apiVersion'] !== 'admission.k8s.io/v1') return `apiVersion is ${JSON.stringify(review['apiVersion'])}, expected "admission.k8s.io/v1" (the webhook is registered with admissionReviewVersions ["v1"])`;
  const request = review['request'];
  if (!isRecord(request)) return 'no request';
  if (typeof request['uid'] !== 'string' || request['uid'] === '') return 'request.uid is missing';
  if (request['object'] !== undefined && request['object'] !== null && !isRecord(request['object'])) return 'request.object is not an object';
  return request as unknown as AdmissionRequest;
}

/** The object as read, or every problem of it as `trantor apply` prints them. */
function judge(request: AdmissionRequest, config: RenderConfig): SeldonDeployment | string {
  const object = request.object as { apiVersion?: unknown; metadata?: Record<string, unknown>; spec?: unknown };
  const metadata = isRecord(object.metadata) ? object.metadata : {};
  // On CREATE the namespace may be only the request's, and a generateName'd object has no name yet.
  const namespace = typeof metadata['namespace'] === 'string' && metadata['namespace'] !== '' ? metadata['namespace'] : (request.namespace ?? 'default');
  const name = typeof metadata['name'] === 'string' && metadata['name'] !== '' ? metadata['name'] : typeof metadata['generateName'] === 'string' ? `${metadata['generateName']}x` : undefined;
  const live = { ...object, apiVersion: typeof object.apiVersion === 'string' ? object.apiVersion : '', metadata: { ...metadata, name, namespace } } as LiveObject;
  const source = `SeldonDeployment ${namespace}/${name ?? '(no name)'}`;
  const sdep = readLive(live);
  if (sdep instanceof ManifestError) return new ManifestError(sdep.problems, source).message;
  try {
    render(sdep, config);
  } catch (error) {
    if (error instanceof RenderError) return `${source}: ${error.message}`;
    throw error;
  }
  return sdep;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export interface AdmissionHandlerSettings {
  readonly config: RenderConfig;
  /** The largest review body read; a larger one is answered 413 unread. */
  readonly bodyLimit: number;
  /** Told of every review answered (metrics). */
  readonly onResult?: (result: AdmissionResult) => void;
  /** Told of a failure inside the webhook itself (answered 500). */
  readonly onError?: (error: unknown) => void;
}

/** The webhook's HTTP handler: POST of a review on WEBHOOK_PATH; anything else a plain 404 or 405. */
export function admissionHandler(settings: AdmissionHandlerSettings): (req: IncomingMessage, res: ServerResponse) => void {
  const send = (res: ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const fail = (res: ServerResponse, code: number, reason: string, message: string): void => {
    settings.onResult?.('malformed');
    send(res, code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message });
  };
  return (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== WEBHOOK_PATH) return fail(res, 404, 'NotFound', `no webhook at ${path ?? ''}; SeldonDeployments are validated at ${WEBHOOK_PATH}`);
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return fail(res, 405, 'MethodNotAllowed', `${req.method ?? ''} ${WEBHOOK_PATH}: only POST`);
    }
    const tooLarge = (): void => {
      res.setHeader('connection', 'close');
      fail(res, 413, 'RequestEntityTooLarge', `the review is larger than ${settings.bodyLimit} bytes`);
      req.destroy();
    };
    if (Number(req.headers['content-length'] ?? 0) > settings.bodyLimit) return tooLarge();
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > settings.bodyLimit) {
        done = true;
        tooLarge();
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', () => {
      done = true;
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      let review: unknown;
      try {
        review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
      } catch (error) {
        return fail(res, 400, 'BadRequest', `not an AdmissionReview: the body is not JSON (${error instanceof Error ? error.message : String(error)})`);
      }
      let verdict: AdmissionVerdict;
      try {
        verdict = admissionReview(review, settings.config);
      } catch (error) {
        settings.onError?.(error);
        return fail(res, 500, 'InternalError', `the webhook failed: ${error instanceof Error ? error.message : String(error)}`);
      }
      settings.onResult?.(verdict.result);
      send(res, verdict.httpStatus, verdict.body);
    });
  };
}
