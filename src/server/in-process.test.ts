import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { HttpTransport, InProcessTransport, invoke } from '../executor/index.ts';
import type { ComponentMethod, UnitKey } from '../executor/index.ts';
import { loadManifests } from '../manifest/index.ts';
import { InProcessComponents } from './in-process.ts';

const EXAMPLE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples', 'noop-ts');

test('an annotated deployment\'s component answers every executor method in process, health as its healthStatus', async () => {
  const [deployment] = loadManifests(readFileSync(join(EXAMPLE, 'noop-in-process.yaml'), 'utf8'), { baseDir: EXAMPLE }).deployments;
  const components = new InProcessComponents(pino({ level: 'silent' }), process.env);
  await components.activate(deployment!);
  assert.equal(components.failureOf('default', 'noop-in-process'), undefined);
  const unit: UnitKey = { namespace: 'default', deployment: 'noop-in-process', predictor: 'default', node: 'noop' };
  // Nothing reaches the fallback while the component is served in process.
  const transport = new InProcessTransport(components, new HttpTransport({ endpoints: { replicasOf: () => [] }, retryWindowMs: 50 }));
  const options = { idempotent: true, timeoutMs: 5000 };
  try {
    const echoed = await transport.predict(unit, { data: { ndarray: [[1, 2]] } }, options);
    assert.equal(echoed.status, 200);
    assert.deepEqual(echoed.message?.data?.ndarray, [[1, 2]]);
    const health = await transport.health(unit, options);
    assert.equal(health.status, 200, health.failure?.message);
    // The host's health answer (a message), not a method the host does not know (which answers nothing).
    assert.equal(typeof health.message, 'object');
    for (const method of ['metadata', 'sendFeedback', 'route', 'aggregate'] as ComponentMethod[]) {
      const payload = method === 'aggregate' ? [{ data: { ndarray: [[1]] } }] : method === 'sendFeedback' ? { reward: 1 } : method === 'metadata' ? undefined : { data: { ndarray: [[1]] } };
      const response = await invoke(transport, unit, method, payload, options);
      // An answer from the component (a success or its own failure), not the fallback's UNAVAILABLE.
      assert.ok(response.status >= 200 && response.status < 600, `${method}: ${response.status}`);
    }
    components.remove('default', 'noop-in-process');
    await assert.rejects(transport.predict(unit, { data: { ndarray: [[1]] } }, options), { code: 'UNAVAILABLE' });
  } finally {
    await transport.close();
  }
});
