/**
 * HTTP status ⇄ gRPC status, both ways, in one place: a server answering a failure over gRPC
 * gives the code matching the HTTP status REST gives for it, and a client reading a gRPC failure
 * treats it as the HTTP status it stands for (as grpc-gateway maps them).
 */
import * as grpc from '@grpc/grpc-js';

/** REST's HTTP status as the gRPC status a gRPC client expects for the same failure. */
export function grpcStatusOf(httpStatus: number): grpc.status {
  switch (httpStatus) {
    case 401:
      return grpc.status.UNAUTHENTICATED;
    case 403:
      return grpc.status.PERMISSION_DENIED;
    case 404:
      return grpc.status.NOT_FOUND;
    case 408:
    case 504:
      return grpc.status.DEADLINE_EXCEEDED;
    case 413:
    case 429:
      return grpc.status.RESOURCE_EXHAUSTED;
    case 501:
      return grpc.status.UNIMPLEMENTED;
    case 503:
      return grpc.status.UNAVAILABLE;
    default:
      return httpStatus >= 400 && httpStatus < 500 ? grpc.status.INVALID_ARGUMENT : grpc.status.INTERNAL;
  }
}

/** The HTTP status a gRPC status code stands for. */
export const HTTP_STATUS_OF_GRPC: Readonly<Record<number, number>> = Object.freeze({
  [grpc.status.CANCELLED]: 499,
  [grpc.status.UNKNOWN]: 500,
  [grpc.status.INVALID_ARGUMENT]: 400,
  [grpc.status.DEADLINE_EXCEEDED]: 504,
  [grpc.status.NOT_FOUND]: 404,
  [grpc.status.ALREADY_EXISTS]: 409,
  [grpc.status.PERMISSION_DENIED]: 403,
  [grpc.status.RESOURCE_EXHAUSTED]: 429,
  [grpc.status.FAILED_PRECONDITION]: 400,
  [grpc.status.ABORTED]: 409,
  [grpc.status.OUT_OF_RANGE]: 400,
  [grpc.status.UNIMPLEMENTED]: 501,
  [grpc.status.INTERNAL]: 500,
  [grpc.status.UNAVAILABLE]: 503,
  [grpc.status.DATA_LOSS]: 500,
  [grpc.status.UNAUTHENTICATED]: 401,
});

/** A failure a grpc-js handler passes to its callback (or a stream's `destroy`). */
export function grpcError(code: grpc.status, details: string, metadata?: grpc.Metadata): grpc.ServerErrorResponse {
  return Object.assign(new Error(details), { code, details, ...(metadata === undefined ? {} : { metadata }) });
}
