/**
 * `seldon.protos.Seldon` at the gateway: Predict, SendFeedback, ModelMetadata and GraphMetadata,
 * each doing what the REST route does for the same input (server.ts): the message checked as
 * REST checks it, the traffic split and shadows, the puid from metadata or `meta.puid`, feedback
 * to the predictor whose graph holds the response's requestPath, metadata from the primary.
 */
import { TrantorError, fromProto, parseSeldonMessage, stringifyJson, toProto, isPuid } from '../protocol/index.ts';
import type { SeldonMessage, SeldonProtoKind, SeldonProtoMessages } from '../protocol/index.ts';
import type { CallLimits } from '../executor/index.ts';
import type { GatewayPredictor } from './predictor.ts';
import type { GrpcExchange, GrpcGateway, UnaryWork } from './grpc.ts';
import { parseFeedback } from './request.ts';
import { tapAnswer } from './request-tap.ts';
import { primaryOf } from './traffic.ts';
import type { DeploymentEntry } from './deployments.ts';

/** An answer as protobuf; one that has no protobuf form is the gateway's failure, named. */
function encodeAnswer<K extends SeldonProtoKind>(kind: K, value: SeldonProtoMessages[K]): Uint8Array {
  try {
    return toProto(kind, value);
  } catch (err) {
    throw new TrantorError('BAD_UPSTREAM', `the answer cannot travel as a protobuf ${kind}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** The predictor a request goes to; UNAVAILABLE when the deployment has none. */
export function servingPredictor(entry: DeploymentEntry, chosen: GatewayPredictor | undefined): GatewayPredictor {
  if (chosen === undefined) throw new TrantorError('UNAVAILABLE', `SeldonDeployment ${entry.namespace}/${entry.name} has no predictor to serve it`);
  return chosen;
}

/** The request tap's view of a call (when it was tapped): its message as JSON, and the predictor it went to. */
function tapCall(exchange: GrpcExchange, predictor: GatewayPredictor, message: unknown): void {
  const tap = exchange.tap;
  if (tap === undefined) return;
  tap.predictor = predictor.name;
  tap.request = stringifyJson(message);
}


export function seldonServiceImplementation(gateway: GrpcGateway): Readonly<Record<string, UnaryWork>> {
  const shadow = (executor: GatewayPredictor, message: SeldonMessage, puid: string, limits: CallLimits): void => {
    executor.predict(message, puid, limits).catch((err: unknown) => {
      gateway.logger?.debug({ err, predictor: executor.name, puid }, 'shadow predictor failed; its answer is ignored');
    });
  };
  /** The primary predictor, metered: metadata calls are recorded as REST's are. */
  const primary = (exchange: GrpcExchange): GatewayPredictor => {
    const predictor = primaryOf(gateway.entry(exchange));
    exchange.meter = predictor.metrics;
    return predictor;
  };
  return {
    async Predict(exchange, request) {
      const { entry, split } = gateway.route(exchange);
      const message = parseSeldonMessage(fromProto('SeldonMessage', request));
      if (!exchange.puidFromMetadata) {
        const messagePuid = message.meta?.puid;
        if (messagePuid !== undefined && messagePuid !== '') {
          if (!isPuid(messagePuid)) throw new TrantorError('BAD_PAYLOAD', 'meta.puid: expected 1-128 visible ASCII characters');
          exchange.puid = messagePuid;
        }
      }
      const executor = servingPredictor(entry, split.pick());
      exchange.meter = executor.metrics;
      const limits = gateway.limits(exchange);
      for (const copy of split.shadows) shadow(copy, message, exchange.puid, limits);
      tapCall(exchange, executor, message);
      const reply = await executor.predict(message, exchange.puid, limits);
      if (exchange.tap !== undefined) tapAnswer(exchange.tap, stringifyJson(reply), reply);
      return encodeAnswer('SeldonMessage', reply);
    },

    async SendFeedback(exchange, request) {
      const { entry, split } = gateway.route(exchange);
      const feedback = parseFeedback(fromProto('Feedback', request));
      if (!exchange.puidFromMetadata) {
        const responsePuid = feedback.response?.meta?.puid;
        if (isPuid(responsePuid)) exchange.puid = responsePuid;
      }
      const path = feedback.response?.meta?.requestPath;
      const visited = path === undefined ? [] : Object.keys(path);
      const executor = servingPredictor(entry, (visited.length > 0 ? split.serving.find((e) => visited.every((n) => e.plan.nodes.has(n))) : undefined) ?? split.pick());
      exchange.meter = executor.metrics;
      tapCall(exchange, executor, feedback);
      const reply = await executor.feedback(feedback, exchange.puid, gateway.limits(exchange));
      if (exchange.tap !== undefined) tapAnswer(exchange.tap, stringifyJson(reply), reply);
      return encodeAnswer('SeldonMessage', reply);
    },

    async ModelMetadata(exchange, request) {
      const predictor = primary(exchange);
      const { name } = fromProto('SeldonModelMetadataRequest', request);
      if (name === undefined || name === '') throw new TrantorError('BAD_PAYLOAD', 'name: expected the name of a graph node (GraphMetadata describes the whole graph)');
      const metadata = await predictor.metadata(name, gateway.limits(exchange));
      return encodeAnswer('SeldonModelMetadata', metadata as Record<string, unknown>);
    },

    async GraphMetadata(exchange) {
      const predictor = primary(exchange);
      const { graphinputs, graphoutputs, ...rest } = (await predictor.metadata(undefined, gateway.limits(exchange))) as Record<string, unknown>;
      // REST's JSON names them graphinputs/graphoutputs (Seldon's json_name); the message, inputs/outputs.
      return encodeAnswer('SeldonGraphMetadata', { ...rest, inputs: graphinputs, outputs: graphoutputs });
    },
  };
}
