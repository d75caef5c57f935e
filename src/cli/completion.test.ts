import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { completeWords, completionScript, type CompletionSource } from './completion.ts';
import { buildProgram } from './program.ts';

const source: CompletionSource = {
  names: (resource, namespace) => Promise.resolve(resource.kind === 'SeldonDeployment' ? (namespace === 'other' ? ['elsewhere'] : ['iris', 'income']) : resource.kind === 'Trigger' ? ['to-display'] : []),
  namespaces: () => Promise.resolve(['default', 'other']),
  nodes: (deployment) => Promise.resolve(deployment === 'iris' ? ['router', 'classifier'] : []),
};
const complete = (...words: string[]): Promise<string[]> => completeWords(buildProgram(), words, source);

test('completion offers commands, then flags, resource words and names', async () => {
  assert.deepEqual(await complete('lo'), ['logs']);
  assert.ok((await complete('')).includes('completion'));
  assert.ok(!(await complete('')).includes('__complete'));
  assert.deepEqual(await complete('get', ''), ['sdep', 'trigger', 'broker', 'service', 'deployment', 'configmap', 'all', 'iris', 'income']);
  assert.deepEqual(await complete('get', 'triggers', ''), ['to-display']);
  assert.deepEqual(await complete('logs', 'i'), ['iris', 'income']);
  assert.deepEqual(await complete('logs', '-n', 'other', ''), ['elsewhere']);
  assert.deepEqual(await complete('logs', 'iris', ''), ['router', 'classifier']);
  assert.deepEqual(await complete('logs', 'iris', '-c', 'c'), ['classifier']);
  assert.deepEqual(await complete('logs', '--t'), ['--tail', '--timestamps']);
  assert.deepEqual(await complete('--home', '/tmp/h', 'predict', '--pro'), ['--protocol']);
  assert.deepEqual(await complete('predict', 'iris', '--protocol', ''), ['seldon', 'v2']);
  assert.deepEqual(await complete('get', '-n', 'd'), ['default']);
  assert.deepEqual(await complete('completion', ''), ['bash', 'zsh', 'fish']);
  assert.deepEqual(await complete('events', 't'), ['tail']);
  assert.deepEqual(await complete('apply', '-f', ''), [], 'a file: left to the shell');
});

test('the bash script completes in real bash through trantor __complete', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trantor-completion-'));
  try {
    // `trantor` on PATH runs this checkout, as an installed package's bin would.
    const shim = join(dir, 'trantor');
    writeFileSync(shim, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(join(import.meta.dirname, '..', '..', 'bin', 'trantor.js'))} "$@"\n`);
    chmodSync(shim, 0o755);
    writeFileSync(join(dir, 'trantor.bash'), completionScript('bash'));
    const run = (...words: string[]): string[] => {
      const script = `source ${JSON.stringify(join(dir, 'trantor.bash'))}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}
_trantor
printf '%s\\n' "\${COMPREPLY[@]}"`;
      const result = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { ...process.env, PATH: `${dir}:${process.env['PATH'] ?? ''}`, TRANTOR_HOME: join(dir, 'home') } });
      assert.equal(result.status, 0, result.stderr);
      return result.stdout.split('\n').filter((l) => l !== '');
    };
    assert.deepEqual(run('trantor', 'ver'), ['version']);
    assert.deepEqual(run('trantor', 'logs', '--pre'), ['--previous', '--prefix']);
    assert.deepEqual(run('trantor', 'get', 'tr'), ['trigger']);
    assert.deepEqual(run('trantor', 'completion', 'z'), ['zsh']);
    const complete = spawnSync('bash', ['-c', `source ${JSON.stringify(join(dir, 'trantor.bash'))}; complete -p trantor`], { encoding: 'utf8' });
    assert.match(complete.stdout, /complete -o default -F _trantor trantor/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every shell has a script naming the hidden command', () => {
  for (const shell of ['bash', 'zsh', 'fish'] as const) assert.match(completionScript(shell), /trantor __complete/);
});
