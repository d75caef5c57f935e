/**
 * Reading the images' Dockerfiles (images/*) without a Docker engine: their instructions, the final
 * stage's ENV, ENTRYPOINT and CMD, and the repository file a command on the image's PATH is (every
 * file lands under /opt/trantor at its path in the repository, and commands are symlinks to them);
 * so a test runs an image's container as a process, as the image would run it.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ROOT } from './harness.ts';

const IMAGE_ROOT = '/opt/trantor/';

export interface Instruction {
  readonly keyword: string;
  readonly rest: string;
}

/** The Dockerfile's instructions, continuation lines joined, comments dropped. */
export function instructions(file: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (/^\s*#/.test(line) && pending === '') continue;
    const continued = line.endsWith('\\');
    pending += `${continued ? line.slice(0, -1) : line} `;
    if (continued) continue;
    const text = pending.trim();
    pending = '';
    if (text === '') continue;
    const space = text.indexOf(' ');
    out.push({ keyword: text.slice(0, space).toUpperCase(), rest: text.slice(space + 1).trim() });
  }
  return out;
}

/** `KEY=value KEY2='quoted value'` pairs of the final stage's ENV lines. */
export function envOf(steps: Instruction[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { rest } of steps.filter((s) => s.keyword === 'ENV')) {
    for (const match of rest.matchAll(/([A-Z_][A-Z0-9_]*)=('([^']*)'|"([^"]*)"|(\S*))/g)) env[match[1]!] = match[3] ?? match[4] ?? match[5] ?? '';
  }
  return env;
}

/** The instructions of the last stage (the image itself). */
export function finalStage(file: string): Instruction[] {
  const steps = instructions(file);
  const from = steps.map((s) => s.keyword).lastIndexOf('FROM');
  return steps.slice(from);
}

export function execForm(steps: Instruction[], keyword: 'ENTRYPOINT' | 'CMD'): string[] {
  const found = steps.filter((s) => s.keyword === keyword).at(-1);
  assert.ok(found !== undefined, `no ${keyword}`);
  const value: unknown = JSON.parse(found.rest);
  assert.ok(Array.isArray(value) && value.every((v): v is string => typeof v === 'string'), `${keyword} is not in exec form: ${found.rest}`);
  return value;
}

/** The repository file a command on the image's PATH runs: `ln -s /opt/trantor/X /usr/local/bin/NAME` → X. */
export function commandFile(steps: Instruction[], name: string): string {
  for (const { keyword, rest } of steps) {
    if (keyword !== 'RUN') continue;
    for (const match of rest.matchAll(/ln -s (\S+) \/usr\/local\/bin\/(\S+)/g)) {
      if (match[2] !== name) continue;
      assert.ok(match[1]!.startsWith(IMAGE_ROOT), `${name} links outside ${IMAGE_ROOT}: ${match[1]}`);
      const file = join(ROOT, match[1]!.slice(IMAGE_ROOT.length));
      assert.ok(existsSync(file), `${name} is ${match[1]}, but ${file} is not in the repository`);
      return file;
    }
  }
  throw new Error(`the image puts no ${name} on PATH`);
}

/** Every COPY into /opt/trantor keeps the source's repository path, so commandFile's mapping holds. */
export function checkLayout(file: string): void {
  let workdir = '/';
  for (const { keyword, rest } of instructions(file)) {
    if (keyword === 'FROM') workdir = '/';
    if (keyword === 'WORKDIR') workdir = rest;
    if (keyword !== 'COPY' || rest.startsWith('--')) continue;
    const parts = rest.split(/\s+/);
    const dest = parts.pop()!;
    const target = dest.startsWith('/') ? dest : join(workdir, dest);
    for (const source of parts) {
      const landed = parts.length > 1 || dest.endsWith('/') ? join(target, basename(source)) : target;
      if (landed.startsWith(IMAGE_ROOT)) assert.equal(landed, join(IMAGE_ROOT, source), `${file}: COPY ${source} ${dest} does not keep its repository path`);
    }
  }
}

/** The image's Dockerfile in the repository: `ghcr.io/trantor-ml/<name>:<tag>` is `images/<name>/Dockerfile`; undefined for another's image. */
export function dockerfileOf(image: string): string | undefined {
  const name = /\/([a-z0-9._-]+)(:[^/]*)?$/.exec(image)?.[1];
  const file = name === undefined ? undefined : join(ROOT, 'images', name, 'Dockerfile');
  return file !== undefined && existsSync(file) ? file : undefined;
}

/** A container of the image, as a process: the repository file to run, its arguments, and the image's ENV. */
export interface ImageProcess {
  readonly file: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

/**
 * How the image runs a container, as Kubernetes combines them: the container's `command` in place
 * of the ENTRYPOINT, its `args` in place of the CMD (dropped when `command` is given alone).
 */
export function imageProcess(dockerfile: string, container: { command?: readonly string[]; args?: readonly string[] }): ImageProcess {
  const steps = finalStage(dockerfile);
  const [name, ...rest] = [...(container.command ?? execForm(steps, 'ENTRYPOINT')), ...(container.args ?? (container.command === undefined ? execForm(steps, 'CMD') : []))];
  assert.ok(name !== undefined, `${dockerfile}: no command`);
  return { file: commandFile(steps, name), args: rest, env: envOf(steps) };
}
