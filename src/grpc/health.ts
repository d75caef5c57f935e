/**
 * grpc.health.v1.Health, as every gRPC health probe speaks it (kubelet's grpc probe,
 * grpc_health_probe, Envoy), for any of our gRPC servers: SERVING for the server as a whole ('')
 * and each service it names, NOT_SERVING while its readiness check says why not, and once stopped.
 */
import * as grpc from '@grpc/grpc-js';
import { createRequire } from 'node:module';
import type protobuf from 'protobufjs';
import { fileURLToPath } from 'node:url';
import { TrantorError } from '../protocol/index.ts';
import { grpcError } from './status.ts';

const HEALTH_PROTO = fileURLToPath(new URL('./health.proto', import.meta.url));
const load = createRequire(import.meta.url);
let healthRoot: protobuf.Root | undefined;

/**
 * The root holding `grpc.health.v1`, parsed on first use (protobufjs too is loaded then: a
 * process that imports this module but serves no gRPC does not pay for it).
 */
export function healthProtoRoot(): protobuf.Root {
  if (healthRoot === undefined) {
    try {
      const root = (load('protobufjs') as typeof protobuf).loadSync(HEALTH_PROTO);
      root.resolveAll();
      healthRoot = root;
    } catch (err) {
      throw new TrantorError('INTERNAL', `the gRPC health schema could not be loaded from ${HEALTH_PROTO}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }
  return healthRoot;
}

/** The health service's schema. */
export function healthService(): protobuf.Service {
  return healthProtoRoot().lookupService('grpc.health.v1.Health');
}

const SERVING = 1;
const NOT_SERVING = 2;
const SERVICE_UNKNOWN = 3;

export interface Health {
  implementation: grpc.UntypedServiceImplementation;
  /** Ends every Watch with NOT_SERVING; Check answers NOT_SERVING from now on. */
  stop(): void;
}

/**
 * The health service over `names` (full service names; '' is always served). `ready`, when
 * given, is asked on each Check and Watch: a reason (not undefined) means NOT_SERVING.
 */
export function healthImplementation(names: ReadonlySet<string>, ready?: () => Promise<string | undefined>): Health {
  const service = healthService();
  const request = service.lookupType('HealthCheckRequest');
  const response = service.lookupType('HealthCheckResponse');
  const encode = (status: number): Buffer => Buffer.from(response.encode({ status }).finish());
  const watchers = new Set<grpc.ServerWritableStream<Buffer, Buffer>>();
  let serving = true;
  const askedAbout = (bytes: Buffer): string | Error => {
    try {
      return (request.decode(bytes) as unknown as { service: string }).service;
    } catch (err) {
      return new Error(`not a protobuf HealthCheckRequest: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  const statusNow = async (): Promise<number> => {
    if (!serving) return NOT_SERVING;
    if (ready === undefined) return SERVING;
    return (await ready().catch(() => 'the readiness check failed')) === undefined ? SERVING : NOT_SERVING;
  };
  const check: grpc.handleUnaryCall<Buffer, Buffer> = (call, callback) => {
    const name = askedAbout(call.request);
    if (name instanceof Error) callback(grpcError(grpc.status.INVALID_ARGUMENT, name.message));
    else if (name !== '' && !names.has(name)) callback(grpcError(grpc.status.NOT_FOUND, `service: this server does not serve ${JSON.stringify(name)}`));
    else void statusNow().then((status) => callback(null, encode(status)));
  };
  const watch: grpc.handleServerStreamingCall<Buffer, Buffer> = (call) => {
    const name = askedAbout(call.request);
    if (name instanceof Error) {
      call.destroy(grpcError(grpc.status.INVALID_ARGUMENT, name.message));
      return;
    }
    void statusNow().then((status) => {
      // The stream stays open: a later change (stopping) is sent on it.
      call.write(encode(name !== '' && !names.has(name) ? SERVICE_UNKNOWN : status));
      if (!serving) {
        call.end();
        return;
      }
      watchers.add(call);
      call.on('cancelled', () => watchers.delete(call));
    });
  };
  return {
    implementation: { Check: check as grpc.UntypedHandleCall, Watch: watch as grpc.UntypedHandleCall },
    stop() {
      serving = false;
      for (const call of watchers) {
        call.write(encode(NOT_SERVING));
        call.end();
      }
      watchers.clear();
    },
  };
}
