/**
 * Manifests that would exhaust the machine are refused before anything is stored: replicas above
 * the limit (each is a process), and YAML whose aliases expand a small text into a huge one.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Trantor } from './harness.ts';

const trantor = new Trantor();
before(() => trantor.up());
after(() => trantor.close());

/** POST /v1/apply as a script would, with the home's API token when there is one. */
async function applyRaw(text: string): Promise<{ status: number; body: string; ms: number }> {
  const info = JSON.parse(readFileSync(join(trantor.home, 'control-plane.json'), 'utf8')) as { apiUrl: string };
  const tokenFile = join(trantor.home, 'api-token');
  const headers: Record<string, string> = { 'content-type': 'application/yaml' };
  if (existsSync(tokenFile)) headers['authorization'] = `Bearer ${readFileSync(tokenFile, 'utf8').trim()}`;
  const started = Date.now();
  const res = await fetch(`${info.apiUrl}/v1/apply`, { method: 'POST', headers, body: text });
  return { status: res.status, body: await res.text(), ms: Date.now() - started };
}

/** The peak resident memory of `trantor up` so far, in MiB (Linux). */
function peakRssMiB(): number | undefined {
  try {
    const kib = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${trantor.pid}/status`, 'utf8'))?.[1];
    return kib === undefined ? undefined : Number(kib) / 1024;
  } catch {
    return undefined;
  }
}

function storedDeployments(): string[] {
  const listed = trantor.cli(['get', 'sdep', '-o', 'name']);
  assert.equal(listed.code, 0, listed.stderr);
  return listed.stdout.trim().split('\n').filter(Boolean);
}

const manyReplicas = (replicas: number): string => `apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: many}
spec:
  predictors:
  - name: default
    replicas: ${replicas}
    graph: {name: m, implementation: SIMPLE_MODEL}
`;

test('replicas: 1000000000 is refused with 400, the field path and the limit, and nothing is stored', async () => {
  const answer = await applyRaw(manyReplicas(1_000_000_000));
  assert.equal(answer.status, 400, answer.body);
  assert.match(answer.body, /spec\.predictors\[0\]\.replicas: 1000000000 is more than the 64 replicas allowed/);
  assert.match(answer.body, /--max-replicas/);

  const file = join(trantor.home, 'many.yaml');
  writeFileSync(file, manyReplicas(1_000_000_000));
  const applied = trantor.cli(['apply', '-f', file]);
  assert.notEqual(applied.code, 0);
  assert.match(applied.stderr, /spec\.predictors\[0\]\.replicas: 1000000000 is more than the 64 replicas allowed/);

  assert.deepEqual(storedDeployments(), []);
  assert.equal(existsSync(join(trantor.home, 'manifests', 'seldondeployments', 'default', 'many.json')), false);
  // Still serving, and a restart would find nothing to choke on.
  assert.equal((await fetch(`${trantor.gateway}/prometheus`)).status, 200);
});

test('a YAML alias bomb (a 1 MiB anchor named 300 times) is refused quickly, with bounded memory', async () => {
  let text = `apiVersion: machinelearning.seldon.io/v1\nkind: SeldonDeployment\nmetadata: {name: bomb}\nspec:\n  annotations:\n    a: &big "${'x'.repeat(2 ** 20)}"\n`;
  for (let i = 0; i < 300; i++) text += `    k${i}: *big\n`;
  text += '  predictors:\n  - name: default\n    graph: {name: m, implementation: SIMPLE_MODEL}\n';

  const answer = await applyRaw(text);
  assert.equal(answer.status, 400, answer.body.slice(0, 500));
  assert.match(answer.body, /expands to more than \d+ bytes through its YAML aliases/);
  assert.ok(answer.ms < 10_000, `took ${answer.ms} ms`);
  const peak = peakRssMiB();
  // The expanded manifest would be over 300 MiB (and several times that as JS strings and JSON).
  if (peak !== undefined) assert.ok(peak < 400, `trantor up peaked at ${Math.round(peak)} MiB`);
  assert.deepEqual(storedDeployments(), []);
});
