/**
 * `inference.GRPCInferenceService` at the gateway: the Open Inference Protocol's gRPC face of a
 * `protocol: v2` deployment (chosen by the same `seldon`/`namespace` metadata), calling its
 * predictors' `v2` face (predictor.ts) with the same values V2 REST hands it. ModelInfer takes the
 * traffic split and copies to shadows as Predict does. A deployment speaking Seldon's protocol
 * has no V2 face: UNIMPLEMENTED, naming `protocol: v2`.
 */
import { packageVersion } from '../manifest/index.ts';
import { TrantorError, stringifyJson, encodeV2Request, encodeV2Response, decodeModelInferRequest, encodeModelInferResponse, encodeModelMetadataResponse, encodeServerMetadataResponse, decodeV2Message, encodeV2Message } from '../protocol/index.ts';
import type { V2DecodedBody, V2InferenceRequest, V2InferenceResponse, V2Tensor } from '../protocol/index.ts';
import type { GatewayPredictor, V2Predictor } from './predictor.ts';
import type { GrpcExchange, GrpcGateway, UnaryWork } from './grpc.ts';
import type { DeploymentEntry } from './deployments.ts';
import { primaryOf } from './traffic.ts';
import { servingPredictor } from './grpc-seldon.ts';

function v2Of(entry: DeploymentEntry, predictor: GatewayPredictor): V2Predictor {
  if (predictor.v2 === undefined) {
    if (predictor.protocol === 'v2') throw new TrantorError('NOT_IMPLEMENTED', `predictor ${predictor.name} of SeldonDeployment ${entry.namespace}/${entry.name} has \`protocol: v2\` but no V2 face here yet`);
    throw new TrantorError('NOT_IMPLEMENTED', `SeldonDeployment ${entry.namespace}/${entry.name} speaks Seldon's protocol; the V2 service (inference.GRPCInferenceService) answers deployments with \`protocol: v2\``);
  }
  return predictor.v2;
}

/** The model a request names: `name` is required, `version` optional. */
function modelOf(fields: Record<string, unknown>, field = 'name'): { name: string; version: string | undefined } {
  const name = fields[field];
  if (typeof name !== 'string' || name === '') throw new TrantorError('BAD_PAYLOAD', `${field}: expected the model's name (a graph node)`);
  const version = fields[field === 'name' ? 'version' : 'model_version'];
  return { name, version: typeof version === 'string' && version !== '' ? version : undefined };
}

/**
 * The most elements a tapped call's tensors are written out with, as REST's JSON `data`; past it
 * the inspector gets each tensor's name, shape and datatype, and no call spends its time writing
 * a large tensor as text that the inspector would cut at 16 KiB.
 */
const TAPPED_ELEMENTS = 4096;

function withinTapLimit(tensors: readonly V2Tensor[]): boolean {
  let count = 0;
  for (const tensor of tensors) count += tensor.values.length;
  return count <= TAPPED_ELEMENTS;
}

/**
 * A tapped ModelInfer message as V2 REST's JSON body, its tensors in `data` (`written`), while
 * they hold TAPPED_ELEMENTS or fewer. Writing the record never fails the call: past the limit, or
 * when a tensor cannot be written out, the record is the message without its data.
 */
function tappedBody(message: object, tensors: readonly V2Tensor[], written: () => Uint8Array): string | Uint8Array {
  if (withinTapLimit(tensors)) {
    try {
      return written();
    } catch {
      // As past the limit: the message alone.
    }
  }
  return stringifyJson(message);
}

function tappedRequest(body: V2DecodedBody<V2InferenceRequest>): string | Uint8Array {
  const { inputs: _listed, ...fields } = body.message;
  return tappedBody(body.message, body.tensors, () => encodeV2Request(fields, body.tensors, () => false).body);
}

function tappedResponse(answer: V2DecodedBody<V2InferenceResponse>): string | Uint8Array {
  const { outputs: _listed, ...fields } = answer.message;
  return tappedBody(answer.message, answer.tensors, () => encodeV2Response(fields, answer.tensors, () => false).body);
}

export function v2ServiceImplementation(gateway: GrpcGateway): Readonly<Record<string, UnaryWork>> {
  /** The primary predictor's V2 face, metered. */
  const primary = (exchange: GrpcExchange): V2Predictor => {
    const entry = gateway.entry(exchange);
    const predictor = primaryOf(entry);
    exchange.meter = predictor.metrics;
    return v2Of(entry, predictor);
  };
  const shadow = (entry: DeploymentEntry, predictor: GatewayPredictor, model: { name: string; version: string | undefined }, request: V2DecodedBody<V2InferenceRequest>, exchange: GrpcExchange): void => {
    const v2 = predictor.v2;
    if (v2 === undefined) return;
    v2.infer(model.name, model.version, request, exchange.puid, gateway.limits(exchange)).catch((err: unknown) => {
      gateway.logger?.debug({ err, predictor: predictor.name, deployment: `${entry.namespace}/${entry.name}`, puid: exchange.puid }, 'shadow predictor failed; its answer is ignored');
    });
  };
  return {
    // The gateway answers for itself: it is live whenever it answers.
    ServerLive: () => Promise.resolve(encodeV2Message('ServerLiveResponse', { live: true })),

    async ServerReady(exchange) {
      const v2 = primary(exchange);
      return encodeV2Message('ServerReadyResponse', { ready: await v2.serverReady(gateway.limits(exchange)) });
    },

    async ModelReady(exchange, request) {
      const model = modelOf(decodeV2Message('ModelReadyRequest', request));
      const v2 = primary(exchange);
      return encodeV2Message('ModelReadyResponse', { ready: await v2.modelReady(model.name, model.version, gateway.limits(exchange)) });
    },

    ServerMetadata(exchange) {
      // Asked of a deployment: it must speak V2 for the answer to mean anything.
      primary(exchange);
      return Promise.resolve(encodeServerMetadataResponse({ name: 'trantor', version: packageVersion(), extensions: [] }));
    },

    async ModelMetadata(exchange, request) {
      const model = modelOf(decodeV2Message('ModelMetadataRequest', request));
      const v2 = primary(exchange);
      return encodeModelMetadataResponse(await v2.modelMetadata(model.name, model.version, gateway.limits(exchange)));
    },

    async ModelInfer(exchange, request) {
      const { entry, split } = gateway.route(exchange);
      const decoded = decodeModelInferRequest(request);
      const model = modelOf({ model_name: decoded.modelName, model_version: decoded.modelVersion }, 'model_name');
      const predictor = servingPredictor(entry, split.pick());
      exchange.meter = predictor.metrics;
      const v2 = v2Of(entry, predictor);
      const body: V2DecodedBody<V2InferenceRequest> = { message: decoded.message, tensors: decoded.tensors };
      for (const copy of split.shadows) shadow(entry, copy, model, body, exchange);
      if (exchange.tap !== undefined) {
        exchange.tap.predictor = predictor.name;
        exchange.tap.request = tappedRequest(body);
      }
      const answer = await v2.infer(model.name, model.version, body, exchange.puid, gateway.limits(exchange));
      if (exchange.tap !== undefined) exchange.tap.response = tappedResponse(answer);
      const { outputs: _listed, ...fields } = answer.message;
      return encodeModelInferResponse(fields, answer.tensors);
    },
  };
}
