/**
 * The gRPC/V2 bench's report: ratios against the targets, MLServer at its fastest configuration,
 * and contenders without a figure said so rather than given one.
 * `node --import tsx --test bench/grpc-v2.test.ts`
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { formatGrpcV2, type Contender, type GrpcV2Report } from './grpc-v2.ts';

const measured = (name: string, requestsPerSecond: number, clientCpu?: number): Contender => ({
  name,
  outcome: { kind: 'measured', figures: { requestsPerSecond, requests: requestsPerSecond * 5, p50: 1.5, p99: 4.25, errors: 0, ...(clientCpu === undefined ? {} : { clientCpu }) } },
});

const report = (contenders: Contender[]): GrpcV2Report => ({ contenders, seconds: 5, connections: 16 });

it('prints each ratio against its target, MLServer at its faster configuration', () => {
  const text = formatGrpcV2(
    report([
      measured('Trantor gateway, Seldon REST', 4000),
      measured('Trantor gateway, Seldon gRPC (spec.transport: rest)', 5000, 0.4),
      measured('Trantor gateway, Seldon gRPC (spec.transport: grpc)', 6000, 0.42),
      measured('Trantor gateway, V2 REST', 3000),
      measured('Trantor gateway, V2 gRPC', 4500, 0.4),
      measured('MLServer 1.7.1, parallel_workers 2, V2 REST', 800),
      measured('MLServer 1.7.1, parallel_workers 2, V2 gRPC', 900, 0.1),
      measured('MLServer 1.7.1, parallel_workers 0, V2 REST', 1600),
      measured('MLServer 1.7.1, parallel_workers 0, V2 gRPC', 1300, 0.1),
    ]),
  );
  assert.match(text, /\| Trantor gateway, Seldon gRPC \(spec\.transport: grpc\) \| 6000 \| 1\.5 \| 4\.25 \| 0 \| 42% \|/);
  assert.match(text, /\| Trantor gateway, Seldon REST \| 4000 \| 1\.5 \| 4\.25 \| 0 \| — \|/);
  assert.match(text, /gRPC vs REST through our gateway, Seldon protocol, each path whole: 1\.50× \(target ≥ 1\.3×\) — met$/m);
  assert.match(text, /gRPC vs REST at our gateway, the same REST deployment: 1\.25×$/m);
  // 3000 / 1600, not 3000 / 800: held to MLServer's faster configuration.
  assert.match(text, /our V2 REST vs MLServer V2 REST: 1\.88× \(target ≥ 2×\) — MISSED \(against MLServer 1\.7\.1, parallel_workers 0, V2 REST\)/);
  assert.match(text, /our V2 gRPC vs MLServer V2 gRPC: 3\.46× \(against MLServer 1\.7\.1, parallel_workers 0, V2 gRPC\)/);
  assert.match(text, /V2 gRPC vs V2 REST through our gateway: 1\.50×$/m);
});

it('gives no figure for a contender not served, skipped or failed, and says why below the table', () => {
  const text = formatGrpcV2(
    report([
      measured('Trantor gateway, Seldon REST', 4000),
      { name: 'Trantor gateway, Seldon gRPC (spec.transport: grpc)', outcome: { kind: 'absent', reason: 'gRPC status 14: Protocol error' } },
      { name: 'Trantor gateway, V2 REST', outcome: { kind: 'failed', reason: '3 errors in 900 requests' } },
      { name: 'MLServer, parallel_workers 2, V2 REST', outcome: { kind: 'skipped', reason: 'no python at /nowhere' } },
    ]),
  );
  assert.match(text, /\| Trantor gateway, Seldon gRPC \(spec\.transport: grpc\) \| not served by this build \| \| \| \| \|/);
  assert.match(text, /\| Trantor gateway, V2 REST \| FAILED \| \| \| \| \|/);
  assert.match(text, /\| MLServer, parallel_workers 2, V2 REST \| skipped \| \| \| \| \|/);
  assert.match(text, /^- Trantor gateway, Seldon gRPC \(spec\.transport: grpc\): not served by this build \(gRPC status 14: Protocol error\)$/m);
  assert.match(text, /^- Trantor gateway, V2 REST: FAILED: 3 errors in 900 requests$/m);
  assert.match(text, /^- MLServer, parallel_workers 2, V2 REST: skipped: no python at \/nowhere$/m);
  assert.match(text, /gRPC vs REST through our gateway, Seldon protocol, each path whole: no figure \(target ≥ 1\.3×\): Trantor gateway, Seldon gRPC \(spec\.transport: grpc\) not measured/);
  assert.match(text, /our V2 REST vs MLServer V2 REST: no figure \(target ≥ 2×\): Trantor gateway, V2 REST and MLServer, parallel_workers 2, V2 REST not measured/);
  assert.doesNotMatch(text, /\| Trantor gateway, V2 REST \| \d/);
});

it("carries each request's MB/s, and holds the large tensor's pairs apart from iris's", () => {
  const withBytes = (contender: Contender, requestBytes: number): Contender => ({ ...contender, requestBytes });
  const text = formatGrpcV2(
    report([
      withBytes(measured('Trantor gateway, Seldon REST', 4000), 30),
      withBytes(measured('Trantor gateway, Seldon gRPC (spec.transport: grpc)', 6000, 0.4), 20),
      withBytes(measured('100k doubles through our gateway, Seldon REST', 100), 1_900_000),
      withBytes(measured('100k doubles through our gateway, Seldon gRPC (spec.transport: grpc)', 250, 0.3), 800_020),
      withBytes(measured('100k doubles through our gateway, V2 REST (JSON)', 80), 1_900_000),
      withBytes(measured('100k doubles through our gateway, V2 REST (binary_data)', 300), 800_100),
      withBytes(measured('100k doubles through our gateway, V2 gRPC (raw_input_contents)', 360, 0.3), 800_050),
    ]),
  );
  assert.match(text, /\| Trantor gateway, Seldon REST \| 4000 \| 1\.5 \| 4\.25 \| 0 \| — \| 0\.12 \|/);
  assert.match(text, /\| 100k doubles through our gateway, Seldon REST \| 100 \| 1\.5 \| 4\.25 \| 0 \| — \| 190 \|/);
  // The iris pair (6000 / 4000), not the large one's, under the iris line.
  assert.match(text, /Seldon protocol, each path whole: 1\.50× \(target ≥ 1\.3×\) — met$/m);
  assert.match(text, /Seldon protocol, 100k doubles, each path whole: 2\.50× \(target ≥ 1\.3×\) — met$/m);
  assert.match(text, /V2 gRPC \(raw_input_contents\) vs V2 REST \(JSON\), 100k doubles: 4\.50×$/m);
  assert.match(text, /V2 gRPC \(raw_input_contents\) vs V2 REST \(binary_data\), 100k doubles: 1\.20×$/m);
});
