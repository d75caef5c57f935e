/**
 * The client's one gRPC channel to the gateway (plain HTTP/2, or TLS for an https gateway), on the
 * same host:port as REST. Calls cross as bytes our codecs make and read, so the client and the
 * gateway convert messages with the same code. A failed call becomes a SeldonClientError: the
 * gateway's words (the status details) under its gRPC code and the HTTP status that code stands for.
 */
import * as grpc from '@grpc/grpc-js';
import { HTTP_STATUS_OF_GRPC, grpcStatusName } from '../protocol/index.ts';
import { SeldonClientError } from './errors.ts';

export interface UnaryCall {
  /** `/seldon.protos.Seldon/Predict`. */
  readonly path: string;
  readonly request: Uint8Array;
  /** Sent as gRPC metadata (lower-cased names). */
  readonly metadata: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
}

const asIs = (bytes: Buffer): Buffer => bytes;

export class GatewayChannel {
  readonly #client: grpc.Client;
  readonly #target: string;

  /** `target` is `host:port`; `tls` for an https gateway. */
  constructor(target: string, tls: boolean, maxMessageBytes: number) {
    const options: grpc.ChannelOptions = { 'grpc.max_send_message_length': maxMessageBytes, 'grpc.max_receive_message_length': maxMessageBytes };
    this.#target = target;
    this.#client = new grpc.Client(target, tls ? grpc.credentials.createSsl() : grpc.credentials.createInsecure(), options);
  }

  /** One unary call: the answer's bytes, or a SeldonClientError naming `what`. */
  unary(what: string, call: UnaryCall): Promise<Buffer> {
    const metadata = new grpc.Metadata();
    for (const [name, value] of Object.entries(call.metadata)) metadata.set(name.toLowerCase(), value);
    const deadline = Date.now() + call.timeoutMs;
    return new Promise<Buffer>((resolve, reject) => {
      if (call.signal?.aborted === true) {
        reject(new SeldonClientError('ABORTED', `${what}: aborted`));
        return;
      }
      const onAbort = (): void => running.cancel();
      const running = this.#client.makeUnaryRequest(call.path, asIs, asIs, Buffer.from(call.request), metadata, { deadline }, (err, value) => {
        call.signal?.removeEventListener('abort', onAbort);
        if (err === null && value !== undefined) resolve(value);
        else reject(failureOf(what, this.#target, err, call, deadline));
      });
      call.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  close(): void {
    this.#client.close();
  }
}

function failureOf(what: string, target: string, err: grpc.ServiceError | null, call: UnaryCall, deadline: number): SeldonClientError {
  if (err === null) return new SeldonClientError('BAD_RESPONSE', `${what}: the gateway answered no message`);
  const code = err.code;
  const details = err.details;
  // The client's own deadline passed (the gateway's DEADLINE_EXCEEDED before it is its failure, as its 504 is over REST).
  if (code === grpc.status.DEADLINE_EXCEEDED && Date.now() >= deadline) {
    return new SeldonClientError('TIMEOUT', `${what}: no answer within ${call.timeoutMs} ms`, { cause: err, grpcCode: code });
  }
  if (code === grpc.status.CANCELLED && call.signal?.aborted === true) return new SeldonClientError('ABORTED', `${what}: aborted`, { cause: err, grpcCode: code });
  // grpc-js says UNAVAILABLE both for a gateway it could not reach and for one that answered it so:
  // only the first is a connection failure.
  if (code === grpc.status.UNAVAILABLE && /No connection established|Connection dropped|http1\.x server/i.test(details)) {
    // grpc-js's "Protocol error" is what an HTTP/1-only server's answer to the HTTP/2 preface reads as.
    const hint = /Protocol error/.test(details) ? ' (is it serving HTTP/1 only there?)' : '';
    const said = details.replace(/\.? Resolution note:.*$/s, '');
    return new SeldonClientError('CONNECTION', `${what}: no gRPC connection to ${target}${hint}: ${said}`, { cause: err, grpcCode: code });
  }
  const status = HTTP_STATUS_OF_GRPC[code] ?? 500;
  const info = details === '' ? undefined : details;
  return new SeldonClientError('FAILURE', `${what}: ${grpcStatusName(code)}${info === undefined ? '' : ` ${info}`}`, {
    status,
    grpcCode: code,
    ...(info === undefined ? {} : { info }),
    cause: err,
  });
}
