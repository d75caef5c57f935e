/**
 * A Triton model repository on disk: `<repository>/<model>/config.pbtxt` and
 * `<repository>/<model>/<version>/model.onnx`, versions being numeric folders. Which model is
 * served: the one the node's `model_name` parameter names, else the repository's only model;
 * which versions: those the config's `version_policy` picks (the highest one by default).
 * Only ONNX models are served here — any other platform is refused, naming it.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TrantorError } from '../../../protocol/index.ts';
import { parseModelConfig, type ModelConfig, type VersionPolicy } from './config.ts';

/** The platform Triton names an ONNX Runtime model, and its backend's name. */
export const ONNX_PLATFORM = 'onnxruntime_onnx';
export const ONNX_BACKEND = 'onnxruntime';
export const DEFAULT_MODEL_FILE = 'model.onnx';

export interface ModelVersion {
  readonly version: number;
  /** The ONNX file of this version. */
  readonly file: string;
}

/** The model a repository serves, with its configuration (absent: completed from the model). */
export interface RepositoryModel {
  readonly name: string;
  readonly dir: string;
  readonly config: ModelConfig | undefined;
  /** The versions served, lowest first. */
  readonly versions: readonly ModelVersion[];
}

function bad(what: string): TrantorError {
  return new TrantorError('BAD_MANIFEST', what);
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The model folders of a repository, sorted. */
export function repositoryModels(repository: string): string[] {
  if (!isDir(repository)) throw bad(`the Triton model repository ${repository} is not a folder`);
  return readdirSync(repository)
    .filter((entry) => !entry.startsWith('.') && isDir(join(repository, entry)))
    .sort();
}

/** Refuses a config whose platform or backend is not ONNX Runtime, saying what to do. */
function checkPlatform(config: ModelConfig, source: string): void {
  const platform = config.platform ?? config.backend;
  if (platform === undefined || config.platform === ONNX_PLATFORM || (config.platform === undefined && config.backend === ONNX_BACKEND)) return;
  const field = config.platform !== undefined ? 'platform' : 'backend';
  throw new TrantorError(
    'NOT_SUPPORTED',
    `${source}: ${field} "${platform}" is not served by trantor up's TRITON_SERVER, which runs ONNX models (platform "${ONNX_PLATFORM}" or backend "${ONNX_BACKEND}") only; ` +
      `export the model to ONNX, or deploy it to Kubernetes, where Seldon's Triton image serves every backend`,
  );
}

function pickVersions(available: readonly number[], policy: VersionPolicy, dir: string, source: string): number[] {
  if (policy.kind === 'all') return [...available];
  if (policy.kind === 'latest') return available.slice(-policy.count);
  const missing = policy.versions.filter((v) => !available.includes(v));
  if (missing.length > 0) {
    throw bad(`${source}: version_policy.specific.versions names ${missing.join(', ')}, which ${dir} does not hold (its versions: ${available.join(', ') || 'none'})`);
  }
  return [...new Set(policy.versions)].sort((a, b) => a - b);
}

/**
 * The model to serve from `repository`: `modelName` (the `model_name` parameter) when given,
 * else the only model there. Throws BAD_MANIFEST (or NOT_SUPPORTED for another platform) naming
 * the folder or file at fault.
 */
export function locateTritonModel(repository: string, modelName?: string): RepositoryModel {
  const models = repositoryModels(repository);
  let name: string;
  if (modelName !== undefined && modelName !== '') {
    if (!models.includes(modelName)) {
      throw bad(`parameter model_name "${modelName}": the Triton model repository ${repository} has no model of that name (its models: ${models.join(', ') || 'none'})`);
    }
    name = modelName;
  } else if (models.length === 1) {
    name = models[0]!;
  } else if (models.length === 0) {
    throw bad(`the Triton model repository ${repository} holds no model: expected <model>/config.pbtxt and <model>/1/${DEFAULT_MODEL_FILE}`);
  } else {
    throw bad(`the Triton model repository ${repository} holds ${models.length} models (${models.join(', ')}); name the one to serve with the parameter model_name`);
  }
  const dir = join(repository, name);
  const configFile = join(dir, 'config.pbtxt');
  let config: ModelConfig | undefined;
  if (existsSync(configFile)) {
    config = parseModelConfig(readFileSync(configFile, 'utf8'), configFile);
    if (config.name !== undefined && config.name !== name) {
      throw bad(`${configFile}: name "${config.name}" differs from its folder's name "${name}"; Triton names a model by its folder, so make them equal`);
    }
    checkPlatform(config, configFile);
  }
  const available = readdirSync(dir)
    .filter((entry) => /^\d+$/.test(entry) && isDir(join(dir, entry)))
    .map(Number)
    .sort((a, b) => a - b);
  if (available.length === 0) throw bad(`the Triton model ${dir} has no version folder: put the model at ${join(dir, '1', DEFAULT_MODEL_FILE)}`);
  const fileName = config?.defaultModelFilename ?? DEFAULT_MODEL_FILE;
  const versions = pickVersions(available, config?.versionPolicy ?? { kind: 'latest', count: 1 }, dir, configFile).map((version) => {
    const file = join(dir, String(version), fileName);
    if (!existsSync(file)) {
      const found = readdirSync(join(dir, String(version)));
      throw bad(
        `the Triton model ${name} version ${version} has no ${fileName} (${join(dir, String(version))} holds ${found.join(', ') || 'nothing'}); ` +
          `trantor up's TRITON_SERVER serves ONNX models only`,
      );
    }
    return { version, file };
  });
  return { name, dir, config, versions };
}
