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

/** A folder with `trantor` (this checkout) and the script for `shell`; removed by `done()`. */
function shellSetup(shell: 'bash' | 'zsh' | 'fish'): { dir: string; env: NodeJS.ProcessEnv; script: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'trantor-completion-'));
  const shim = join(dir, 'trantor');
  writeFileSync(shim, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(join(import.meta.dirname, '..', '..', 'bin', 'trantor.js'))} "$@"\n`);
  chmodSync(shim, 0o755);
  const script = join(dir, `trantor.${shell}`);
  writeFileSync(script, completionScript(shell));
  const env = { ...process.env, PATH: `${dir}:${process.env['PATH'] ?? ''}`, TRANTOR_HOME: join(dir, 'home') };
  return { dir, env, script, done: () => rmSync(dir, { recursive: true, force: true }) };
}

function hasShell(shell: string): boolean {
  return spawnSync(shell, ['-c', 'exit 0']).status === 0;
}

test('the bash script completes in real bash through trantor __complete', () => {
  const { env, script, done } = shellSetup('bash');
  try {
    const run = (...words: string[]): string[] => {
      const code = `source ${JSON.stringify(script)}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}
_trantor
printf '%s\\n' "\${COMPREPLY[@]}"`;
      const result = spawnSync('bash', ['-c', code], { encoding: 'utf8', env });
      assert.equal(result.status, 0, result.stderr);
      return result.stdout.split('\n').filter((l) => l !== '');
    };
    assert.deepEqual(run('trantor', 'ver'), ['version']);
    assert.deepEqual(run('trantor', 'logs', '--pre'), ['--previous', '--prefix']);
    assert.deepEqual(run('trantor', 'get', 'tr'), ['trigger']);
    assert.deepEqual(run('trantor', 'completion', 'z'), ['zsh']);
    const complete = spawnSync('bash', ['-c', `source ${JSON.stringify(script)}; complete -p trantor`], { encoding: 'utf8' });
    assert.match(complete.stdout, /complete -o default -F _trantor trantor/);
  } finally {
    done();
  }
});

test('the fish script completes in real fish, and leaves files to fish where trantor offers nothing', (t) => {
  if (!hasShell('fish')) return t.skip('fish is not installed');
  const { dir, env, script, done } = shellSetup('fish');
  try {
    writeFileSync(join(dir, 'manifest.yaml'), '');
    const complete = (line: string): string[] => {
      const result = spawnSync('fish', ['-c', `source ${JSON.stringify(script)}; complete -C ${JSON.stringify(line)}`], { encoding: 'utf8', env });
      assert.equal(result.status, 0, result.stderr);
      return result.stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t')[0]!);
    };
    assert.deepEqual(complete('trantor ver'), ['version']);
    assert.deepEqual(complete('trantor logs --pre').sort(), ['--prefix', '--previous']);
    assert.deepEqual(complete(`trantor apply -f ${join(dir, 'mani')}`), [join(dir, 'manifest.yaml')]);
  } finally {
    done();
  }
});

test('the zsh script loads after compinit and defines its function', (t) => {
  if (!hasShell('zsh')) return t.skip('zsh is not installed');
  const { env, script, done } = shellSetup('zsh');
  try {
    const result = spawnSync('zsh', ['-f', '-c', `autoload -U compinit; compinit -u -D; source ${JSON.stringify(script)}; whence -w _trantor; print -r -- $_comps[trantor]`], { encoding: 'utf8', env });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, '_trantor: function\n_trantor\n');
  } finally {
    done();
  }
});

test('every shell has a script naming the hidden command', () => {
  for (const shell of ['bash', 'zsh', 'fish'] as const) assert.match(completionScript(shell), /trantor __complete/);
});
