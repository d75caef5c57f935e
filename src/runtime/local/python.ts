/**
 * Finding a Python that can host components. The `python3` first on PATH is not always the
 * one with numpy and scikit-learn (a pyenv shim may shadow the distribution's), so each
 * candidate is asked, once, which of the modules it can import.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runtimeOptions } from './options.ts';

/** The folder holding the `trantor_runtime` package; put it on PYTHONPATH. */
export const PYTHON_PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'python');

export interface PythonChoice {
  executable: string;
  modules: ReadonlySet<string>;
}

const cache = new Map<string, PythonChoice | null>();

function candidates(env: NodeJS.ProcessEnv): string[] {
  const list = [env['TRANTOR_PYTHON'], 'python3', '/usr/bin/python3', 'python'];
  return [...new Set(list.filter((c): c is string => c !== undefined && c !== ''))];
}

function probe(executable: string, modules: readonly string[], timeoutMs: number): Set<string> | null {
  const script = `import importlib.util,sys\nprint(",".join(m for m in sys.argv[1:] if importlib.util.find_spec(m)))`;
  const result = spawnSync(executable, ['-c', script, ...modules], { encoding: 'utf8', timeout: timeoutMs });
  if (result.status !== 0) return null;
  return new Set(result.stdout.trim().split(',').filter(Boolean));
}

/**
 * The first Python (TRANTOR_PYTHON, then python3 on PATH, then /usr/bin/python3) that can
 * import every module in `required`, or null with none. Each is given `timeoutMs` to answer.
 */
export function findPython(
  required: readonly string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number = runtimeOptions.defaults.pythonProbeTimeout,
): PythonChoice | null {
  const key = `${env['TRANTOR_PYTHON'] ?? ''}|${required.join(',')}`;
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  let choice: PythonChoice | null = null;
  for (const executable of candidates(env)) {
    if (executable.includes('/') && !existsSync(executable)) continue;
    const modules = probe(executable, required, timeoutMs);
    if (modules !== null && required.every((m) => modules.has(m))) {
      choice = { executable, modules };
      break;
    }
  }
  cache.set(key, choice);
  return choice;
}

/** Module → [Debian package (null when Debian has none), pip package], where they differ from python3-<module> and <module>. */
const PACKAGES: Readonly<Record<string, readonly [string | null, string]>> = {
  sklearn: ['python3-sklearn', 'scikit-learn'],
  mlflow: [null, 'mlflow-skinny'],
};

/**
 * What to tell a user whose machine has no Python with `required`; `variable` is the environment
 * variable that names a Python for this purpose, tried before TRANTOR_PYTHON (none by default).
 */
export function missingPythonAdvice(required: readonly string[], variable?: string): string {
  const debian = required.map((m) => PACKAGES[m]?.[0] ?? (m in PACKAGES ? null : `python3-${m}`));
  const pip = required.map((m) => PACKAGES[m]?.[1] ?? m);
  const tried = [...(variable === undefined ? [] : [variable]), 'TRANTOR_PYTHON', 'python3', '/usr/bin/python3'];
  const install = debian.every((d) => d !== null)
    ? `Install them with: sudo apt-get install -y ${[...new Set(debian)].join(' ')}  (or: python3 -m pip install ${pip.join(' ')}), `
    : `Install them with: python3 -m pip install ${pip.join(' ')} (in a virtualenv: python3 -m venv --system-site-packages <dir>; <dir>/bin/pip install ${pip.join(' ')}), `;
  return (
    `no Python 3 with ${required.join(', ')} was found (tried ${tried.join(', ')}). ` +
    install +
    `or point ${variable ?? 'TRANTOR_PYTHON'} at a Python that has them.`
  );
}
