/**
 * The error a model throws to answer with its own status, like Seldon's
 * `SeldonMicroserviceException`: `throw new MicroserviceError('expected 4 features, got 5')`
 * answers 400 with that message; a status of 500 or more is reported as the model's failure.
 * Anything else a model throws answers 500 `MICROSERVICE_INTERNAL_ERROR` with `"<Name>: <message>"`.
 *
 * `HostSetupError` is the local kind: a component that cannot be started, reported before any request.
 */
import { TrantorError } from '../protocol/index.ts';

export class MicroserviceError extends TrantorError {
  constructor(message: string, status = 400, reason?: string) {
    const valid = Number.isInteger(status) && status >= 400 && status <= 599;
    super('COMPONENT_FAILURE', message, { status: valid ? status : 500, reason });
    this.name = 'MicroserviceError';
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/**
 * A thrown value from user code as the error to answer with. A TrantorError (or a
 * MicroserviceError from another copy of this package, recognised by its name and status)
 * keeps its status; anything else is the model's failure, 500.
 */
export function modelFailure(err: unknown): TrantorError {
  if (err instanceof TrantorError) return err;
  if (err instanceof Error && (err.name === 'MicroserviceError' || err.name === 'TrantorError') && isRecord(err)) {
    const status = err['status'];
    const reason = err['reason'];
    if (typeof status === 'number') return new MicroserviceError(err.message, status, typeof reason === 'string' ? reason : undefined);
  }
  const name = err instanceof Error ? err.name : 'Error';
  const message = err instanceof Error ? err.message : String(err);
  return new TrantorError('MODEL_ERROR', `${name}: ${message}`, { cause: err });
}

/**
 * A problem with how a component is started (its command line, environment, file or
 * constructor), not with a request; `exitCode` 2 for bad usage, 1 otherwise.
 */
export class HostSetupError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'HostSetupError';
    this.exitCode = exitCode;
  }
}
