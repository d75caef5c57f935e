/**
 * The npm package as a user gets it: `npm pack` of the built tree, installed globally into a
 * temporary prefix (the `trantor` command on PATH) and as a dependency of a project outside this
 * repository (the SDK's subpath exports, their type declarations, and `npx trantor-ml`). Installs
 * come from the npm registry (or npm's cache); onnxruntime-node's CUDA download is skipped as the
 * README says. Slow (a native build of better-sqlite3): its own tier, `npm run test:package`.
 */
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NPM_ENV = { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };

function run(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = NPM_ENV): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: 600_000 });
  if (result.error !== undefined) throw result.error;
  return result;
}

function ok(result: SpawnSyncReturns<string>, what: string): string {
  assert.equal(result.status, 0, `${what} exited ${result.status}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

describe('the npm package', () => {
  let work: string;
  let tarball: string;

  before(() => {
    assert.ok(existsSync(join(ROOT, 'dist', 'server', 'entry.js')), 'the package is built from dist/: run npm run build first');
    work = mkdtempSync(join(tmpdir(), 'trantor-package-'));
    ok(run('npm', ['pack', '--ignore-scripts', '--pack-destination', work], ROOT), 'npm pack');
    const packed = readdirSync(work).filter((f) => f.endsWith('.tgz'));
    assert.equal(packed.length, 1, `one tarball: ${packed.join(', ')}`);
    tarball = join(work, packed[0]!);
  });

  after(() => rmSync(work, { recursive: true, force: true }));

  it('is named trantor-ml and holds the built code, the Python host and type declarations, not the tests', () => {
    assert.match(tarball, /trantor-ml-\d+\.\d+\.\d+\.tgz$/);
    const files = ok(run('tar', ['-tzf', tarball], work), 'tar').split('\n');
    for (const file of ['package/bin/trantor.js', 'package/dist/server/entry.js', 'package/dist/client/index.d.ts', 'package/dist/component/index.d.ts', 'package/python/trantor_runtime/microservice.py']) {
      assert.ok(files.includes(file), `${file} is in the package`);
    }
    assert.deepEqual(files.filter((f) => /\.test\.(ts|js)$/.test(f)), []);
  });

  it('npm install -g gives the trantor command', () => {
    const prefix = join(work, 'global');
    ok(run('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', tarball], work), 'npm install -g');
    const bin = join(prefix, 'bin');
    const env = { ...process.env, PATH: `${bin}:${process.env['PATH'] ?? ''}` };
    const help = ok(run('trantor', ['--help'], work, env), 'trantor --help');
    assert.match(help, /^Usage: trantor /m);
    for (const command of ['up', 'apply', 'get', 'predict']) assert.match(help, new RegExp(`^\\s+${command}\\b`, 'm'), `help lists ${command}`);
    assert.ok(existsSync(join(bin, 'trantor-ml')), 'the trantor-ml alias, which npx runs');
  });

  it('a project of its own imports the SDK with its types, and npx trantor-ml runs the CLI', () => {
    const project = join(work, 'project');
    ok(run('mkdir', ['-p', project], work), 'mkdir');
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'my-app', version: '1.0.0', type: 'module', private: true }));
    // The SDK needs no native module: install without scripts, as fast as npm can. A TypeScript
    // project on Node has Node's types, which the SDK's declarations use (Buffer, AbortSignal).
    ok(run('npm', ['install', '--ignore-scripts', '--prefer-offline', tarball, '@types/node@^20'], project), 'npm install trantor-ml');
    writeFileSync(
      join(project, 'app.ts'),
      [
        "import { ControlPlaneClient, SeldonClient } from 'trantor-ml/client';",
        "import type { Features, SeldonComponent } from 'trantor-ml/component';",
        '',
        'export class Echo implements SeldonComponent {',
        '  predict(X: Features): Features {',
        '    return X;',
        '  }',
        '}',
        "const client = new SeldonClient({ gatewayEndpoint: 'http://127.0.0.1:1', namespace: 'seldon' });",
        'console.log(typeof client.predict, typeof ControlPlaneClient);',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, allowImportingTsExtensions: true, types: ['node'], skipLibCheck: false, lib: ['ES2023'] }, include: ['app.ts'] }),
    );
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const checked = run(process.execPath, [tsc, '-p', 'tsconfig.json'], project);
    assert.equal(checked.status, 0, `the SDK's types check in a project of its own:\n${checked.stdout}${checked.stderr}`);
    const tsx = join(project, 'node_modules', 'tsx', 'dist', 'cli.mjs');
    assert.equal(ok(run(process.execPath, [tsx, 'app.ts'], project), 'the app').trim(), 'function function');
    const help = ok(run('npx', ['--no-install', 'trantor-ml', '--help'], project), 'npx trantor-ml --help');
    assert.match(help, /^Usage: trantor /m);
  });
});
