/** The local supervisor keeps the Runtime contract. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { runtimeContract } from '../../manifest/testing.ts';
import type { SeldonDeployment } from '../../manifest/index.ts';
import { LocalSupervisor } from './supervisor.ts';
import { container, graphNode, seldonDeployment } from './testing.ts';

// Answers /health/ping with pong on its port and prints `ready <VERSION>`; MODE=fail exits at once.
const COMPONENT = `
import http from 'node:http';
if (process.env.MODE === 'fail') {
  console.error('cannot load model: weights.bin is missing');
  process.exit(3);
}
http.createServer((req, res) => res.end(req.url === '/health/ping' ? 'pong' : ''))
  .listen(Number(process.env.PREDICTIVE_UNIT_HTTP_SERVICE_PORT), '127.0.0.1', () => console.log('ready ' + process.env.VERSION));
`;

const dir = mkdtempSync(join(tmpdir(), 'trantor-contract-'));
const script = join(dir, 'component.mjs');
writeFileSync(script, COMPONENT);

function deployment(name: string, env: Record<string, string>): SeldonDeployment {
  return seldonDeployment({
    name,
    baseDir: dir,
    graph: graphNode({ name: 'model' }),
    componentSpecs: [{ containers: [container({ name: 'model', command: [process.execPath, script], env: Object.entries(env).map(([n, value]) => ({ name: n, value })) })] }],
  });
}

runtimeContract('LocalSupervisor', {
  runtime: () => new LocalSupervisor({ home: mkdtempSync(join(tmpdir(), 'trantor-home-')), logger: pino({ level: 'silent' }), env: process.env }),
  healthy: (name, version) => deployment(name, { VERSION: String(version) }),
  failing: (name) => deployment(name, { MODE: 'fail' }),
  failureOutput: /cannot load model: weights\.bin is missing/,
});
