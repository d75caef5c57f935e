/**
 * What every command is handed: where its output goes, stdin, the environment, and how it finds
 * the running control plane.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { ControlPlaneClient } from '../client/index.ts';
import { resolveHome } from '../manifest/index.ts';
import { connectControlPlane } from './control-plane.ts';

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  readStdin: () => string;
  env: NodeJS.ProcessEnv;
}

export const processIo: Io = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  readStdin: () => readFileSync(0, 'utf8'),
  env: process.env,
};

interface GlobalOptions {
  home?: string;
}

export function homeOf(command: Command, io: Io): string {
  return resolveHome(command.optsWithGlobals<GlobalOptions>().home, io.env);
}

export function connect(command: Command, io: Io): ControlPlaneClient {
  return connectControlPlane(homeOf(command, io), io.env);
}
