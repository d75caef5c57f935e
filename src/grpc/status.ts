/**
 * The status mapping our gRPC servers use, typed for grpc-js: the table itself (both ways) lives in
 * `protocol/grpc/status.ts`, plain numbers, shared with the client and the transports.
 */
import type * as grpc from '@grpc/grpc-js';
import { grpcStatusOfHttp } from '../protocol/index.ts';

export { HTTP_STATUS_OF_GRPC } from '../protocol/index.ts';

/** REST's HTTP status as the gRPC status a gRPC client expects for the same failure. */
export function grpcStatusOf(httpStatus: number): grpc.status {
  return grpcStatusOfHttp(httpStatus);
}

/** A failure a grpc-js handler passes to its callback (or a stream's `destroy`). */
export function grpcError(code: grpc.status, details: string, metadata?: grpc.Metadata): grpc.ServerErrorResponse {
  return Object.assign(new Error(details), { code, details, ...(metadata === undefined ? {} : { metadata }) });
}
