/**
 * For the storage end-to-end tests: the CLI run without blocking this process (whose own servers
 * the command downloads from), the emulators' paths, and an iris manifest pointing at a URI.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TRANTOR, type CliResult } from './harness.ts';

/** `trantor ARGS` as a child process with `env`; resolves with its exit code and output. */
export function cliAsync(args: readonly string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  const child = spawn(process.execPath, [TRANTOR, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr })));
}

/** `<dir>/<name>.yaml`: an iris SKLEARN_SERVER deployment in namespace seldon loading `modelUri`. */
export function irisManifest(dir: string, name: string, modelUri: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: ${name}, namespace: seldon}
spec:
  name: iris
  predictors:
  - graph: {implementation: SKLEARN_SERVER, modelUri: '${modelUri}', name: classifier}
    name: default
    replicas: 1
`,
  );
  return file;
}
