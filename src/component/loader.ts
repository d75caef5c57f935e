/**
 * The module loader both hosts of TypeScript/JavaScript components share (the Node host's
 * process and `trantor up`'s in-process components): an interface name resolved to a file and an
 * export, the file imported (TypeScript through tsx), the class constructed with the unit's
 * parameters and its `load()` awaited.
 *
 * `MLScore` is looked up in the working directory as MLScore.ts, .mts, .js or .mjs, and its export
 * `MLScore` (or the default export) is taken; `module.Class` and `./path/file.ts:Class` name a class
 * in another file.
 */
import { existsSync } from 'node:fs';
import { basename, extname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SeldonComponent } from './contract.ts';
import { HostSetupError } from './errors.ts';

const MODULE_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'] as const;
const TYPESCRIPT = /\.(?:ts|mts|cts|tsx)$/;

/** Where an interface name points: candidate files (first existing wins) and the export to take. */
export function interfaceTarget(interfaceName: string, cwd: string): { files: string[]; exportName: string; explicit: boolean } {
  const colon = interfaceName.lastIndexOf(':');
  // `C:\…` is a Windows drive, not a class separator.
  if (colon > 1) {
    const file = resolve(cwd, interfaceName.slice(0, colon));
    return { files: [file], exportName: interfaceName.slice(colon + 1), explicit: true };
  }
  const ext = extname(interfaceName);
  if (interfaceName.includes('/') || interfaceName.includes('\\') || isAbsolute(interfaceName) || /^\.[cm]?[jt]s$/.test(ext)) {
    const file = resolve(cwd, interfaceName);
    const files = ext === '' ? MODULE_EXTENSIONS.map((e) => file + e) : [file];
    return { files, exportName: basename(file, ext), explicit: false };
  }
  // Seldon's `module.Class`: the module file, then the class in it.
  const dot = interfaceName.lastIndexOf('.');
  const modulePath = dot === -1 ? interfaceName : interfaceName.slice(0, dot).replaceAll('.', '/');
  const exportName = dot === -1 ? interfaceName : interfaceName.slice(dot + 1);
  return { files: MODULE_EXTENSIONS.map((e) => join(cwd, modulePath + e)), exportName, explicit: dot !== -1 };
}

async function importFile(file: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(file).href;
  if (TYPESCRIPT.test(file)) {
    // Scoped to this import, so it works whether or not tsx is already registered.
    const { tsImport } = await import('tsx/esm/api');
    return (await tsImport(url, import.meta.url)) as Record<string, unknown>;
  }
  return (await import(url)) as Record<string, unknown>;
}

function describeExports(ns: Record<string, unknown>): string {
  const names = Object.keys(ns);
  return names.length === 0 ? 'it exports nothing' : `it exports ${names.join(', ')}`;
}

/** Imports the user's module and returns the class (or instance) the interface names. */
export async function loadComponentExport(interfaceName: string, cwd: string): Promise<{ file: string; exportName: string; value: unknown }> {
  const target = interfaceTarget(interfaceName, cwd);
  const file = target.files.find((f) => existsSync(f));
  if (file === undefined) {
    throw new HostSetupError(`cannot find the model for ${interfaceName}: none of ${target.files.join(', ')} exists (working directory ${cwd})`);
  }
  let ns: Record<string, unknown>;
  try {
    ns = await importFile(file);
  } catch (err) {
    throw new HostSetupError(`cannot load ${file}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  }
  let value = ns[target.exportName];
  if (value === undefined && !target.explicit) {
    const fallback = ns['default'];
    // A CommonJS module's default is its exports object; look inside it too.
    value =
      typeof fallback === 'object' && fallback !== null && target.exportName in fallback
        ? (fallback as Record<string, unknown>)[target.exportName]
        : fallback;
  }
  if (value === undefined || value === null) {
    throw new HostSetupError(`${file} has no export ${target.exportName}${target.explicit ? '' : ' and no default export'} (${describeExports(ns)})`);
  }
  return { file, exportName: target.exportName, value };
}

/** A new instance of the exported class with the parameters, or the exported object itself. */
export function instantiate(value: unknown, parameters: Readonly<Record<string, unknown>>, label: string): SeldonComponent {
  if (typeof value === 'function') {
    try {
      return new (value as new (p: Record<string, unknown>) => SeldonComponent)({ ...parameters });
    } catch (err) {
      throw new HostSetupError(`${label}: the constructor failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
  }
  if (typeof value === 'object' && value !== null) return value;
  throw new HostSetupError(`${label} is a ${typeof value}; export a class (or an object with a predict method)`);
}

/** A component loaded, constructed and ready to serve. */
export interface LoadedComponent {
  readonly file: string;
  /** The export's name, which is the component's name in replies and logs. */
  readonly name: string;
  readonly model: SeldonComponent;
}

/**
 * Finds, imports and constructs the component an interface name points to, and awaits its
 * `load()`. Throws HostSetupError saying which step failed.
 */
export async function loadComponent(interfaceName: string, cwd: string, parameters: Readonly<Record<string, unknown>>): Promise<LoadedComponent> {
  const { file, exportName, value } = await loadComponentExport(interfaceName, cwd);
  const label = `${exportName} (${file})`;
  const model = instantiate(value, parameters, label);
  if (typeof model.load === 'function') {
    try {
      await model.load();
    } catch (err) {
      throw new HostSetupError(`${label}: load() failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
  }
  return { file, name: exportName, model };
}
