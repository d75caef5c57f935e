/**
 * A node's `envSecretRefName` on this machine: the env file
 * `<TRANTOR_HOME>/secrets/<namespace>/<name>.env` (`KEY=value` lines, `#` comments, optional
 * quotes), whose values go to the storage providers' context only — never into a process's env.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TrantorError } from '../protocol/index.ts';

export function secretFile(home: string, namespace: string, name: string): string {
  return join(home, 'secrets', namespace, `${name}.env`);
}

/** The secret's values; NOT_FOUND naming the file (and `field`) when it is missing. */
export function readSecretEnv(home: string, namespace: string, name: string, field: string): Record<string, string> {
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name)) {
    throw new TrantorError('BAD_MANIFEST', `${field} ${name}: not a valid Secret name (lowercase letters, digits, '-' and '.')`);
  }
  const file = secretFile(home, namespace, name);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new TrantorError('NOT_FOUND', `${field} ${name}: no secret file ${file}; write the credentials there as KEY=value lines`);
  }
  return parseEnvFile(text, file);
}

export function parseEnvFile(text: string, where: string): Record<string, string> {
  const out: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (match === null) throw new TrantorError('BAD_MANIFEST', `${where}:${i + 1}: expected KEY=value`);
    let value = match[2] ?? '';
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.endsWith(value[0])) value = value.slice(1, -1);
    out[match[1]!] = value;
  });
  return out;
}
