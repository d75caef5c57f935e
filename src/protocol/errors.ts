/**
 * One error type for everything that can go wrong with a request or a manifest.
 * Each error has a stable `code` (callers branch on it), the HTTP status it maps to, and
 * Seldon's `reason`, so any layer can turn it into the wire error body without special cases.
 * The table below is the single source of codes; docs/errors.md lists it (kept in step by a test).
 */
export const ERROR_CODES = {
  BAD_JSON: { status: 400, reason: 'MICROSERVICE_BAD_DATA', summary: 'the body is not valid JSON' },
  BAD_PAYLOAD: { status: 400, reason: 'MICROSERVICE_BAD_DATA', summary: 'the message does not follow the Seldon protocol' },
  PAYLOAD_SHAPE: { status: 400, reason: 'MICROSERVICE_BAD_DATA', summary: 'the data has the wrong shape for the model' },
  EMPTY_BODY: { status: 400, reason: 'MICROSERVICE_BAD_DATA', summary: 'the request has no body' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, reason: 'UNSUPPORTED_MEDIA_TYPE', summary: 'the content type is not JSON or a form' },
  BODY_TOO_LARGE: { status: 413, reason: 'PAYLOAD_TOO_LARGE', summary: 'the body is larger than the configured limit' },
  JSON_TOO_DEEP: { status: 400, reason: 'MICROSERVICE_BAD_DATA', summary: 'the JSON nests deeper than the documented limit' },
  BAD_PATH: { status: 400, reason: 'BAD_REQUEST', summary: 'the path or a header is malformed, or names an object with an invalid name' },
  BAD_QUERY: { status: 400, reason: 'BAD_REQUEST', summary: 'a query parameter has a value the path does not accept; the message names it' },
  HEADERS_TOO_LARGE: { status: 431, reason: 'HEADERS_TOO_LARGE', summary: 'the request headers are larger than the server accepts' },
  REQUEST_TIMEOUT: { status: 408, reason: 'REQUEST_TIMEOUT', summary: 'the request body did not arrive within the configured time' },
  UNAUTHORIZED: { status: 401, reason: 'UNAUTHORIZED', summary: 'the control-plane API token is missing or wrong' },
  FORBIDDEN_ORIGIN: { status: 403, reason: 'FORBIDDEN', summary: 'the request came from a web page whose origin is not allowed' },
  MISDIRECTED_REQUEST: { status: 421, reason: 'MISDIRECTED_REQUEST', summary: 'the Host header names a host this server does not answer for' },
  NOT_FOUND: { status: 404, reason: 'NOT_FOUND', summary: 'no such path, deployment or object' },
  CONFLICT: { status: 409, reason: 'CONFLICT', summary: 'another owner holds it: a second event display for a Service one already serves' },
  METHOD_NOT_ALLOWED: { status: 405, reason: 'METHOD_NOT_ALLOWED', summary: 'the path does not accept this method' },
  BAD_EVENT: { status: 400, reason: 'BAD_EVENT', summary: 'a CloudEvent is not valid; the message names the attribute' },
  BAD_MANIFEST: { status: 400, reason: 'BAD_MANIFEST', summary: 'a manifest is not valid; the message names the field' },
  NOT_SUPPORTED: { status: 400, reason: 'NOT_SUPPORTED', summary: 'the feature is not supported yet' },
  NOT_IMPLEMENTED: { status: 501, reason: 'NOT_IMPLEMENTED', summary: 'the component does not implement the method (a Python method raised NotImplementedError)' },
  MODEL_ERROR: { status: 500, reason: 'MICROSERVICE_INTERNAL_ERROR', summary: 'the model raised an error' },
  COMPONENT_FAILURE: {
    status: 500,
    reason: 'MICROSERVICE_INTERNAL_ERROR',
    summary: "a component's own failure, passed on with the status and reason it gave (a 4xx defaults to MICROSERVICE_BAD_DATA)",
  },
  UNAVAILABLE: { status: 503, reason: 'MICROSERVICE_UNAVAILABLE', summary: 'no replica of a component is ready' },
  UPSTREAM_TIMEOUT: { status: 504, reason: 'MICROSERVICE_TIMEOUT', summary: 'a component did not answer in time' },
  BAD_UPSTREAM: { status: 502, reason: 'MICROSERVICE_BAD_RESPONSE', summary: 'a component answered with something that is not a Seldon message' },
  INSUFFICIENT_STORAGE: { status: 507, reason: 'INSUFFICIENT_STORAGE', summary: 'the disk is full: the event was not stored' },
  INTERNAL: { status: 500, reason: 'INTERNAL_ERROR', summary: 'an unexpected error inside Trantor' },
} as const satisfies Record<string, { status: number; reason: string; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class TrantorError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly reason: string;

  /**
   * An error's code fixes its status and reason, with one exception: COMPONENT_FAILURE passes on
   * the status (and reason, if any) a component answered with, as Seldon does; without a reason, a
   * status below 500 is MICROSERVICE_BAD_DATA and any other MICROSERVICE_INTERNAL_ERROR.
   */
  constructor(code: 'COMPONENT_FAILURE', message: string, options: { status: number; reason?: string | undefined; cause?: unknown });
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown });
  constructor(code: ErrorCode, message: string, options?: { status?: number; reason?: string | undefined; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TrantorError';
    this.code = code;
    if (code === 'COMPONENT_FAILURE' && options?.status !== undefined) {
      this.status = options.status;
      this.reason = options.reason ?? (options.status < 500 ? 'MICROSERVICE_BAD_DATA' : 'MICROSERVICE_INTERNAL_ERROR');
    } else {
      this.status = ERROR_CODES[code].status;
      this.reason = ERROR_CODES[code].reason;
    }
  }
}

/** Seldon's error body: `{"status":{"code","info","reason","status":"FAILURE"}}`. */
export interface FailureBody {
  status: { code: number; info: string; reason: string; status: 'FAILURE' };
}

export function failureBody(err: TrantorError): FailureBody {
  return { status: { code: err.status, info: err.message, reason: err.reason, status: 'FAILURE' } };
}

/** Any thrown value as a TrantorError; unknown errors become INTERNAL with their message. */
export function asTrantorError(err: unknown): TrantorError {
  if (err instanceof TrantorError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new TrantorError('INTERNAL', message, { cause: err });
}
