/**
 * What every command is handed: where its output goes, stdin, the environment, and how it finds
 * the running control plane.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { ControlPlaneInfo } from '../spec/index.ts';
import { resolveHome } from '../spec/index.ts';
import { readControlPlane } from './control-plane.ts';

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

export function connect(command: Command, io: Io): ControlPlaneInfo {
  return readControlPlane(homeOf(command, io));
}
