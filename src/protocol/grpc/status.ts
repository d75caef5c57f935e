/**
 * gRPC status codes (the numbers every gRPC implementation shares) and the HTTP status each stands
 * for, as grpc-gateway maps them: one table for the executor's gRPC transport and the client, so a
 * failure over gRPC reads as the same failure over REST. Plain numbers, so the protocol layer
 * need not load a gRPC library to name them.
 */
export const GRPC_STATUS_NAMES: readonly string[] = Object.freeze([
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
]);

/** The HTTP status a gRPC status code stands for (by code number; OK is 200). */
export const HTTP_STATUS_OF_GRPC: Readonly<Record<number, number>> = Object.freeze({
  0: 200,
  1: 499,
  2: 500,
  3: 400,
  4: 504,
  5: 404,
  6: 409,
  7: 403,
  8: 429,
  9: 400,
  10: 409,
  11: 400,
  12: 501,
  13: 500,
  14: 503,
  15: 500,
  16: 401,
});

/** `UNAVAILABLE` for 14; the number itself for a code gRPC does not define. */
export function grpcStatusName(code: number): string {
  return GRPC_STATUS_NAMES[code] ?? String(code);
}
