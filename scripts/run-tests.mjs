#!/usr/bin/env node
// Runs the test suites: `unit` (tests beside the source), `python` (the Python host's
// unittest suite), `e2e` (test/e2e, which start real processes), or all three by default;
// `kube` (test/kube, against a real kube-apiserver: docs/testing.md) and `package` (test/package:
// the npm package installed as a user installs it) only when asked.
// node --test on Node 20 does not find .ts files in a folder, so the files are listed here.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function find(dir, suffix) {
  const out = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...find(path, suffix));
    else if (path.endsWith(suffix)) out.push(path);
  }
  return out.sort();
}

function run(command, args) {
  const result = spawnSync(command, args, { stdio: 'inherit' });
  return result.status ?? 1;
}

const which = process.argv[2] ?? 'all';
let failed = 0;
if (which === 'all' || which === 'unit') {
  failed += run(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...find('src', '.test.ts'), ...find('bench', '.test.ts')]);
}
if (which === 'all' || which === 'python') {
  failed += run(process.execPath, ['--import', 'tsx', 'scripts/python-tests.ts']);
}
if (which === 'all' || which === 'e2e') {
  failed += run(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...find('test/e2e', '.test.ts')]);
}
if (which === 'package') {
  failed += run(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...find('test/package', '.test.ts')]);
}
if (which === 'kube') {
  failed += run(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...find('test/kube', '.test.ts')]);
}
process.exit(failed === 0 ? 0 : 1);
