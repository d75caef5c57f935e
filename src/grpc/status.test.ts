import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { grpcStatusOf, HTTP_STATUS_OF_GRPC } from './status.ts';

test('each HTTP status REST answers with maps to the gRPC status a client expects, and back', () => {
  const pairs: [number, grpc.status][] = [
    [400, grpc.status.INVALID_ARGUMENT], [401, grpc.status.UNAUTHENTICATED], [403, grpc.status.PERMISSION_DENIED],
    [404, grpc.status.NOT_FOUND], [413, grpc.status.RESOURCE_EXHAUSTED], [429, grpc.status.RESOURCE_EXHAUSTED],
    [501, grpc.status.UNIMPLEMENTED], [503, grpc.status.UNAVAILABLE], [504, grpc.status.DEADLINE_EXCEEDED], [500, grpc.status.INTERNAL],
  ];
  for (const [http, code] of pairs) assert.equal(grpc.status[grpcStatusOf(http)], grpc.status[code], `HTTP ${http}`);
  // Other 4xx are the caller's fault, other 5xx the server's.
  assert.equal(grpcStatusOf(415), grpc.status.INVALID_ARGUMENT);
  assert.equal(grpcStatusOf(502), grpc.status.INTERNAL);
  // The way back lands on the same HTTP status for the codes the way there gives (413 and 429 share RESOURCE_EXHAUSTED).
  for (const [http, code] of pairs) if (http !== 413) assert.equal(HTTP_STATUS_OF_GRPC[code], http, grpc.status[code]);
  for (const code of Object.values(grpc.status).filter((v): v is number => typeof v === 'number' && v !== grpc.status.OK)) assert.ok(HTTP_STATUS_OF_GRPC[code] !== undefined, grpc.status[code]);
});

test('a code is labelled as Go names it, as Seldon\'s executor writes its metrics', async () => {
  const { grpcCodeLabel } = await import('../protocol/index.ts');
  const go: Record<number, string> = {
    0: 'OK', 1: 'Canceled', 2: 'Unknown', 3: 'InvalidArgument', 4: 'DeadlineExceeded', 5: 'NotFound', 6: 'AlreadyExists',
    7: 'PermissionDenied', 8: 'ResourceExhausted', 9: 'FailedPrecondition', 10: 'Aborted', 11: 'OutOfRange',
    12: 'Unimplemented', 13: 'Internal', 14: 'Unavailable', 15: 'DataLoss', 16: 'Unauthenticated',
  };
  for (const [code, name] of Object.entries(go)) assert.equal(grpcCodeLabel(Number(code)), name);
  assert.equal(grpcCodeLabel(99), 'Code(99)');
});
