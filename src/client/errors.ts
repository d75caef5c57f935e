/** How the client's calls fail: one error class with a stable code, whatever carried the call. */
/** Why a call failed; callers branch on `code`, not on the message. */
export type SeldonClientErrorCode =
  /** The gateway answered with a failure: a status that is not 2xx, or a body whose `status.status` is FAILURE. */
  | 'FAILURE'
  /** The gateway answered 2xx with something that is not JSON. */
  | 'BAD_RESPONSE'
  /** No complete answer within the timeout. */
  | 'TIMEOUT'
  /** The caller's signal aborted the call. */
  | 'ABORTED'
  /** The gateway could not be reached, or the connection broke. */
  | 'CONNECTION';

/** A call that did not succeed, with what the gateway said when it said anything. */
export class SeldonClientError extends Error {
  readonly code: SeldonClientErrorCode;
  /** The HTTP status, when the gateway answered (over gRPC: the one its status code stands for). */
  readonly status: number | undefined;
  /** The server's `status.info`: what is wrong, in words. */
  readonly info: string | undefined;
  /** The server's `status.reason`, e.g. `MICROSERVICE_BAD_DATA`. */
  readonly reason: string | undefined;
  /** The answer's body: parsed JSON, or the text when it is not JSON. */
  readonly body: unknown;
  /** The request's puid, when the gateway sent one. */
  readonly puid: string | undefined;
  /** The gRPC status code, when the call went over gRPC (`status` is then the HTTP status it stands for). */
  readonly grpcCode: number | undefined;

  constructor(
    code: SeldonClientErrorCode,
    message: string,
    details: { status?: number; info?: string; reason?: string; body?: unknown; puid?: string; grpcCode?: number; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'SeldonClientError';
    this.code = code;
    this.status = details.status;
    this.info = details.info;
    this.reason = details.reason;
    this.body = details.body;
    this.puid = details.puid;
    this.grpcCode = details.grpcCode;
  }
}
