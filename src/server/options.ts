/**
 * Every module's named options, gathered: the one list `trantor up` compiles a user's
 * `--config FILE` and `--set section.option=value` against, and docs/configuration.md lists.
 * A module adds its section here (its table, with defaults, stays in the module).
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { componentOptions } from '../component/index.ts';
import { apiOptions } from './api-options.ts';
import { dashboardOptions } from './dashboard/options.ts';
import { eventingOptions } from '../eventing/index.ts';
import { executorOptions } from '../executor/index.ts';
import { closest, OptionError, type OptionSection, type OptionValues } from '../options/index.ts';
import { runtimeOptions } from '../runtime/local/index.ts';
import { gatewayOptions } from '../gateway/index.ts';
import { httpOptions } from '../http/index.ts';

export const OPTION_SECTIONS = {
  api: apiOptions,
  component: componentOptions,
  dashboard: dashboardOptions,
  eventing: eventingOptions,
  executor: executorOptions,
  gateway: gatewayOptions,
  http: httpOptions,
  runtime: runtimeOptions,
} as const satisfies Readonly<Record<string, OptionSection>>;

type Sections = typeof OPTION_SECTIONS;
/** Each section's compiled values, frozen. */
export type CompiledOptions = { readonly [K in keyof Sections]: OptionValues<Sections[K]['table']> };

type Given = Record<string, Record<string, string | number>>;

/** `section.option=value` pairs, from repeated `--set`. */
function readSets(sets: readonly string[], into: Given): void {
  for (const set of sets) {
    const match = /^([A-Za-z][\w-]*)\.([A-Za-z][\w-]*)=(.*)$/s.exec(set.trim());
    if (!match) throw new OptionError(`--set ${set}: expected section.option=value, e.g. --set executor.retryWindow=5s`);
    (into[match[1]!] ??= {})[match[2]!] = match[3]!;
  }
}

/** A YAML (or JSON) file of `section: {option: value}` mappings. */
function readFile(path: string, into: Given): void {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new OptionError(`--config ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let document: unknown;
  try {
    document = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new OptionError(`--config ${path}: not YAML (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`);
  }
  if (document === null || document === undefined) return;
  if (typeof document !== 'object' || Array.isArray(document)) throw new OptionError(`--config ${path}: expected a mapping of sections, e.g. "executor:\\n  retryWindow: 5s"`);
  for (const [section, options] of Object.entries(document)) {
    if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new OptionError(`--config ${path}: ${section}: expected a mapping of options`);
    for (const [name, value] of Object.entries(options as Record<string, unknown>)) {
      if (typeof value !== 'string' && typeof value !== 'number') throw new OptionError(`--config ${path}: ${section}.${name}: expected a number or a text such as 30s or 10mb`);
      (into[section] ??= {})[name] = value;
    }
  }
}

/** Compiles the file's values, then `--set`'s over them, against `sections`; every name and value checked. */
export function compileOptions<S extends Readonly<Record<string, OptionSection>>>(
  sections: S,
  source: { readonly file?: string | undefined; readonly sets?: readonly string[] },
): { readonly [K in keyof S]: OptionValues<S[K]['table']> } {
  const given: Given = {};
  if (source.file !== undefined && source.file !== '') readFile(source.file, given);
  readSets(source.sets ?? [], given);
  const names = Object.keys(sections);
  for (const section of Object.keys(given)) {
    if (!Object.hasOwn(sections, section)) {
      const near = closest(section, names);
      throw new OptionError(`${section}: no such section of options${near === undefined ? '' : `; did you mean ${near}?`} (sections: ${names.join(', ') || 'none'})`);
    }
  }
  const compiled = Object.fromEntries(names.map((name) => [name, sections[name]!.compile(given[name])]));
  return Object.freeze(compiled) as { readonly [K in keyof S]: OptionValues<S[K]['table']> };
}
