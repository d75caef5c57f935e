/**
 * gRPC status codes (the numbers every gRPC implementation shares) and HTTP statuses, both ways,
 * in one place: a server answering a failure over gRPC gives the code matching the HTTP status REST
 * gives for it, and a client reading a gRPC failure treats it as the HTTP status it stands for (as
 * grpc-gateway maps them). Plain numbers, so the protocol layer need not load a gRPC library.
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

/** REST's HTTP status as the gRPC status code a gRPC client expects for the same failure. */
export function grpcStatusOfHttp(httpStatus: number): number {
  switch (httpStatus) {
    case 401:
      return 16; // UNAUTHENTICATED
    case 403:
      return 7; // PERMISSION_DENIED
    case 404:
      return 5; // NOT_FOUND
    case 408:
    case 504:
      return 4; // DEADLINE_EXCEEDED
    case 413:
    case 429:
      return 8; // RESOURCE_EXHAUSTED
    case 501:
      return 12; // UNIMPLEMENTED
    case 503:
      return 14; // UNAVAILABLE
    default:
      return httpStatus >= 400 && httpStatus < 500 ? 3 /* INVALID_ARGUMENT */ : 13; /* INTERNAL */
  }
}

/**
 * A gRPC code as Go's grpc names it (`OK`, `InvalidArgument`, `Unavailable`): the `code` label
 * Seldon's executor gives gRPC calls in its metrics.
 */
export function grpcCodeLabel(code: number): string {
  const name = GRPC_STATUS_NAMES[code];
  if (name === undefined) return `Code(${code})`;
  if (name === 'OK') return 'OK';
  // Go spells CANCELLED with one L.
  if (name === 'CANCELLED') return 'Canceled';
  return name.toLowerCase().replace(/(^|_)([a-z])/g, (_m, _u: string, c: string) => c.toUpperCase());
}
