/**
 * What to run for a deployment on this machine: one `ComponentLaunch` per graph node that needs a
 * process — the command, its arguments, working folder, environment and replica count — or the
 * reason the deployment cannot run locally, naming the manifest field to change.
 *
 * Deciding this is kept apart from running it, so every rule (custom containers, prepackaged
 * servers, model URIs) is tested without starting a process.
 */
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { COMPONENT_ENV, identityEnv, TrantorError } from '../../protocol/index.ts';
import { HOST_IMPLEMENTATIONS, SERVED_IMPLEMENTATIONS, isExecutorBuiltIn, resolveHome, servesInProcess } from '../../manifest/index.ts';
import type { Container, GraphNode, Parameter, Predictor, SeldonDeployment, UnitImplementation } from '../../manifest/index.ts';
import { loadMirrors, locateModel, pvcRoot } from '../../storage/index.ts';
import { findPython, missingPythonAdvice, PYTHON_PACKAGE_DIR } from './python.ts';
import { planSklearnOnnx } from './plan-sklearn-onnx.ts';
import type { PythonChoice } from './python.ts';
import { planTriton } from './plan-triton.ts';

/** The repository (or installed package) root: the folder holding `python/`, `src/` and `dist/`. */
export const PACKAGE_ROOT = resolve(PYTHON_PACKAGE_DIR, '..');

/** `command[0]` that means "Trantor's Python host" (Seldon's wrapper entry point). */
export const PYTHON_HOST_COMMAND = 'seldon-core-microservice';
/** `command[0]` that means "Trantor's Node host". */
export const NODE_HOST_COMMAND = 'trantor-node-microservice';

/** Implementations the executor answers itself; they need no process. */
export const IN_EXECUTOR_IMPLEMENTATIONS: ReadonlySet<UnitImplementation> = new Set(SERVED_IMPLEMENTATIONS.filter(isExecutorBuiltIn));

/** The folder holding the `seldon-core-microservice` shim, put first on every component's PATH. */
export const PYTHON_HOST_BIN = join(PYTHON_PACKAGE_DIR, 'bin');
const PYTHON_HOST_MODULES = ['numpy'] as const;
const SKLEARN_MODULES = ['numpy', 'sklearn', 'joblib'] as const;

/** A prepackaged model server that Trantor's Python host runs as one of its classes. */
export interface PythonServer {
  /** The class, as `python -m trantor_runtime.microservice <class>` takes it. */
  readonly className: string;
  /** The modules the Python running it must import. */
  readonly modules: readonly string[];
  /** What the folder `modelUri` names must hold, for messages. */
  readonly holds: string;
  /** An environment variable naming a Python to try before TRANTOR_PYTHON and python3 (a virtualenv with the server's library). */
  readonly pythonVariable?: string;
}

/** The prepackaged servers the Python host runs, by implementation. */
export const PYTHON_SERVERS: Readonly<Partial<Record<UnitImplementation, PythonServer>>> = Object.freeze({
  SKLEARN_SERVER: { className: 'trantor_runtime.servers.sklearn.SKLearnServer', modules: SKLEARN_MODULES, holds: 'model.joblib' },
  // xgboost's scikit-learn interface (the V2 outputs) needs scikit-learn.
  XGBOOST_SERVER: { className: 'trantor_runtime.servers.xgboost.XGBoostServer', modules: ['numpy', 'xgboost', 'sklearn'], holds: 'model.bst, model.json or model.ubj' },
  MLFLOW_SERVER: {
    className: 'trantor_runtime.servers.mlflow.MLFlowServer',
    modules: ['numpy', 'pandas', 'mlflow'],
    holds: 'an MLflow model (its MLmodel file)',
    pythonVariable: 'TRANTOR_MLFLOW_PYTHON',
  },
});

/**
 * Prepackaged servers Trantor does not run on this machine, with what to use instead. Any other
 * `*_SERVER` without a case of its own is refused naming the ones that run.
 */
export const REFUSED_SERVERS: Readonly<Partial<Record<UnitImplementation, string>>> = Object.freeze({
  TENSORFLOW_SERVER:
    'Trantor does not run TensorFlow Serving. Convert the SavedModel to ONNX (python -m tf2onnx.convert --saved-model <dir> --output model.onnx), ' +
    'put it in a Triton model repository (<model>/config.pbtxt, <model>/1/model.onnx) and use implementation TRITON_SERVER; ' +
    `or load the model with tensorflow in a Python class of your own, served with command [${PYTHON_HOST_COMMAND}, <Class>] (docs/servers.md)`,
  HUGGINGFACE_SERVER:
    "Trantor does not run Seldon's Hugging Face server. Write a Python class whose __init__ loads transformers.pipeline(<task>, model=<model>) " +
    'and whose predict(X, names) returns its answer, then drop implementation and add a container named as the node: ' +
    `componentSpecs: [{spec: {containers: [{name: <node>, command: [${PYTHON_HOST_COMMAND}, <Class>], workingDir: <folder of <Class>.py>}]}}] (docs/servers.md)`,
});

/** Everything needed to start the replicas of one graph node, except the ports (given per replica). */
export interface ComponentLaunch {
  predictor: string;
  node: string;
  replicas: number;
  /** The executable: an absolute path, or a name looked up on PATH. */
  command: string;
  args: readonly string[];
  cwd: string;
  /** The full environment of a replica, without the port variables. */
  env: Readonly<Record<string, string>>;
  image?: string;
  /**
   * Served inside the control plane rather than as processes (the deployment opted in with
   * the `trantor.io/in-process` annotation); `replicas` is 0 and `args` are the host's arguments.
   */
  inProcess?: boolean;
  /** Equal for two launches exactly when they would start the same processes. */
  fingerprint: string;
  /**
   * A model the supervisor fetches before the replicas start (`modelUri` in a remote store); its
   * `model_uri` parameter holds the URI until `withModelFolder` puts the fetched folder there.
   */
  remoteModel?: RemoteModel;
}

export interface RemoteModel {
  /** The URI to fetch, after mirrors. */
  uri: string;
  /** The manifest field it came from, for messages. */
  field: string;
  /** The node's `envSecretRefName`: credentials for the store. */
  secretRefName?: string;
}

export interface PlanOptions {
  /** The environment replicas inherit (the control plane's, by default). */
  env: NodeJS.ProcessEnv;
  /** Finds a Python that can import `modules`; `findPython` by default. */
  python?: (modules: readonly string[], env: NodeJS.ProcessEnv) => PythonChoice | null;
  /** How to run the Node host; found from the package layout by default. */
  nodeHost?: readonly string[] | null;
  /** The Trantor home: storage mirrors and `pvc://` folders (from `env` by default). */
  home?: string;
}

/** The deployment's launches, or throws a TrantorError (BAD_MANIFEST or NOT_SUPPORTED) naming the field. */
export function planDeployment(deployment: SeldonDeployment, options: PlanOptions): ComponentLaunch[] {
  const baseDir = deployment.baseDir ?? process.cwd();
  const launches: ComponentLaunch[] = [];
  deployment.spec.predictors.forEach((predictor, p) => {
    const seen = new Set<string>();
    const visit = (node: GraphNode, path: string): void => {
      if (seen.has(node.name)) {
        throw new TrantorError('BAD_MANIFEST', `${path}.name: graph node name "${node.name}" is used twice in predictor "${predictor.name}"`);
      }
      seen.add(node.name);
      const launch = planNode(deployment, predictor, p, node, path, baseDir, options);
      if (launch !== null) launches.push(launch);
      node.children.forEach((child, c) => visit(child, `${path}.children[${c}]`));
    };
    visit(predictor.graph, `spec.predictors[${p}].graph`);
  });
  return launches;
}

export interface FoundContainer {
  container: Container;
  replicas: number | undefined;
  path: string;
}

function findContainer(predictor: Predictor, p: number, name: string): FoundContainer | null {
  for (const [s, spec] of predictor.componentSpecs.entries()) {
    for (const [c, container] of spec.containers.entries()) {
      if (container.name === name) {
        return { container, replicas: spec.replicas, path: `spec.predictors[${p}].componentSpecs[${s}].spec.containers[${c}]` };
      }
    }
  }
  return null;
}

function planNode(
  deployment: SeldonDeployment,
  predictor: Predictor,
  p: number,
  node: GraphNode,
  path: string,
  baseDir: string,
  options: PlanOptions,
): ComponentLaunch | null {
  const found = findContainer(predictor, p, node.name);
  const implementation = node.implementation ?? 'UNKNOWN_IMPLEMENTATION';
  const replicas = Math.max(0, Math.floor(found?.replicas ?? predictor.replicas));
  const contract = identityEnv({ unit: node.name, predictor: predictor.name, deployment: deployment.metadata.name, predictorLabels: predictor.labels });
  const command = found?.container.command ?? [];

  if (found !== null && command.length > 0) {
    return planContainer(found, node, contract, replicas, baseDir, options, servesInProcess(deployment));
  }
  if (implementation === 'UNKNOWN_IMPLEMENTATION') {
    if (found === null) {
      throw new TrantorError(
        'BAD_MANIFEST',
        `${path}: graph node "${node.name}" has no implementation and no container named "${node.name}" in spec.predictors[${p}].componentSpecs; ` +
          `add a container with that name (with command and workingDir), or set implementation (supported: ${SERVED_IMPLEMENTATIONS.join(', ')})`,
      );
    }
    const { container } = found;
    if (container.image !== undefined) {
      throw new TrantorError(
        'NOT_SUPPORTED',
        `${found.path}: container "${container.name}" names only an image (${container.image}); ` +
          `to run it locally add command (e.g. [${PYTHON_HOST_COMMAND}, MLScore]) and workingDir`,
      );
    }
    throw new TrantorError(
      'BAD_MANIFEST',
      `${found.path}: container "${container.name}" has no command; ` +
        `to run it locally add command (e.g. [${PYTHON_HOST_COMMAND}, MLScore]) and workingDir`,
    );
  }
  if (IN_EXECUTOR_IMPLEMENTATIONS.has(implementation)) return null;
  if (implementation === 'TRITON_SERVER') return planTriton(deployment, node, path, found, contract, replicas, baseDir, options);
  const server = PYTHON_SERVERS[implementation];
  if (server !== undefined) {
    const planned = planPythonServer(implementation, server, node, path, found, contract, replicas, baseDir, options);
    // trantor.io/sklearn-onnx: the same model, served as ONNX in the Node host instead.
    return implementation === 'SKLEARN_SERVER' ? planSklearnOnnx(deployment, predictor, p, path, planned, options) : planned;
  }
  const instead = REFUSED_SERVERS[implementation];
  if (instead !== undefined) {
    throw new TrantorError('NOT_SUPPORTED', `${path}.implementation ${implementation} (node "${node.name}"): ${instead}`);
  }
  throw new TrantorError(
    'NOT_SUPPORTED',
    `${path}.implementation ${implementation} (node "${node.name}") is not supported yet; supported: ${HOST_IMPLEMENTATIONS.join(', ')}`,
  );
}

function planContainer(
  found: FoundContainer,
  node: GraphNode,
  contract: Record<string, string>,
  replicas: number,
  baseDir: string,
  options: PlanOptions,
  inProcess: boolean,
): ComponentLaunch {
  const { container, path } = found;
  const [first = '', ...rest] = container.command ?? [];
  const args = [...rest, ...(container.args ?? [])];
  const cwd = workingDirOf(container, path, baseDir);
  const own = containerEnv(container);
  const env: Record<string, string> = { ...baseEnv(options.env), ...contract, [COMPONENT_ENV.parameters]: JSON.stringify(node.parameters) };
  if (container.image !== undefined) env[COMPONENT_ENV.image] = container.image;

  if (first === PYTHON_HOST_COMMAND) {
    const python = pythonForUserClass({ ...options.env, ...own }, options, `${path}.command`);
    Object.assign(env, own, { PYTHONPATH: pythonPath(own['PYTHONPATH'] ?? options.env['PYTHONPATH']) });
    return launch(contract, replicas, python.executable, ['-m', 'trantor_runtime.microservice', ...args], cwd, env, container.image);
  }
  if (first === NODE_HOST_COMMAND && inProcess) {
    Object.assign(env, own);
    return { ...launch(contract, 0, NODE_HOST_COMMAND, args, cwd, env, container.image), inProcess: true };
  }
  if (first === NODE_HOST_COMMAND) {
    const host = options.nodeHost === undefined ? nodeHostCommand() : options.nodeHost;
    if (host === null || host.length === 0) {
      throw new TrantorError(
        'NOT_SUPPORTED',
        `${path}.command: ${NODE_HOST_COMMAND} needs the Node host, which is not built (${join(PACKAGE_ROOT, 'dist', 'component', 'node-host.js')}) ` +
          `and cannot run from source without tsx; run npm run build`,
      );
    }
    const [executable = process.execPath, ...hostArgs] = host;
    Object.assign(env, own);
    return launch(contract, replicas, executable, [...hostArgs, ...args], cwd, env, container.image);
  }
  Object.assign(env, own);
  if (first === '') throw new TrantorError('BAD_MANIFEST', `${path}.command[0] is empty`);
  // A shell-form command (`sh -c "seldon-core-microservice $MODEL_NAME …"`) finds our host on PATH;
  // its shim runs TRANTOR_PYTHON, so name a Python that can serve the class.
  if ([first, ...args].some((word) => word.includes(PYTHON_HOST_COMMAND)) && !env['TRANTOR_PYTHON']) {
    env['TRANTOR_PYTHON'] = pythonForUserClass({ ...options.env, ...own }, options, `${path}.command`).executable;
  }
  const executable = first.includes('/') && !isAbsolute(first) ? resolve(cwd, first) : first;
  return launch(contract, replicas, executable, args, cwd, env, container.image);
}

function planPythonServer(
  implementation: UnitImplementation,
  server: PythonServer,
  node: GraphNode,
  path: string,
  found: FoundContainer | null,
  contract: Record<string, string>,
  replicas: number,
  baseDir: string,
  options: PlanOptions,
): ComponentLaunch {
  if (node.modelUri === undefined || node.modelUri === '') {
    throw new TrantorError('BAD_MANIFEST', `${path}.modelUri is required for ${implementation} (node "${node.name}"): the folder holding ${server.holds}`);
  }
  const model = modelOf(node, node.modelUri, path, baseDir, options);
  const own = found === null ? {} : containerEnv(found.container);
  const python = pythonForServer(server, options, `${path}.implementation ${implementation}`, { ...options.env, ...own });
  const parameters = model.parameters;
  const env: Record<string, string> = {
    ...baseEnv(options.env),
    ...contract,
    [COMPONENT_ENV.parameters]: JSON.stringify(parameters),
    ...own,
    PYTHONPATH: pythonPath(own['PYTHONPATH'] ?? options.env['PYTHONPATH']),
  };
  const cwd = found === null ? baseDir : workingDirOf(found.container, found.path, baseDir);
  const args = ['-m', 'trantor_runtime.microservice', server.className, '--service-type', 'MODEL'];
  return withRemoteModel(launch(contract, replicas, python.executable, args, cwd, env, found?.container.image), model.remote);
}

/** A prepackaged server's model: the `model_uri` parameter (the local folder, or the remote URI until it is fetched) before the node's other parameters, and what to fetch first. */
export interface ServerModel {
  readonly parameters: Parameter[];
  readonly remote: RemoteModel | undefined;
}

/** Where `modelUri` (of the node at `path`) is, after mirrors: a local folder, or a store to fetch from before the replicas start. */
export function modelOf(node: GraphNode, modelUri: string, path: string, baseDir: string, options: PlanOptions): ServerModel {
  const field = `${path}.modelUri`;
  const home = options.home ?? resolveHome(undefined, options.env);
  const location = locateModel(modelUri, field, { baseDir, pvcRoot: pvcRoot(home), mirrors: loadMirrors(home, options.env) });
  const value = location.kind === 'local' ? location.path : location.uri;
  const parameters: Parameter[] = [{ name: 'model_uri', value, type: 'STRING' }, ...node.parameters.filter((x) => x.name !== 'model_uri')];
  if (location.kind === 'local') return { parameters, remote: undefined };
  const remote: RemoteModel = { uri: location.uri, field };
  if (node.envSecretRefName !== undefined && node.envSecretRefName !== '') remote.secretRefName = node.envSecretRefName;
  return { parameters, remote };
}

/** `planned`, fetching `remote` before its replicas start when there is one. */
export function withRemoteModel(planned: ComponentLaunch, remote: RemoteModel | undefined): ComponentLaunch {
  if (remote !== undefined) planned.remoteModel = remote;
  return planned;
}

/** `launch` with its fetched model: `folder` as the `model_uri` parameter, nothing left to fetch. */
export function withModelFolder(planned: ComponentLaunch, folder: string): ComponentLaunch {
  const parameters = JSON.parse(planned.env[COMPONENT_ENV.parameters] ?? '[]') as Parameter[];
  const env = { ...planned.env, [COMPONENT_ENV.parameters]: JSON.stringify(parameters.map((p) => (p.name === 'model_uri' ? { ...p, value: folder } : p))) };
  const { remoteModel: _fetched, ...rest } = planned;
  return { ...rest, env };
}

export function workingDirOf(container: Container, path: string, baseDir: string): string {
  if (container.workingDir === undefined || container.workingDir === '') return baseDir;
  const dir = resolve(baseDir, container.workingDir);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new TrantorError('BAD_MANIFEST', `${path}.workingDir ${container.workingDir}: ${dir} is not a folder`);
  }
  return dir;
}

export function containerEnv(container: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const variable of container.env) env[variable.name] = variable.value ?? '';
  return env;
}

/**
 * Control-plane secrets a replica must not inherit: a component is a user's code serving
 * requests, and the API token would let it (or anyone who breaks into it) start processes.
 */
export const CONTROL_PLANE_SECRETS: readonly string[] = ['TRANTOR_API_TOKEN'];

export function baseEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined && !CONTROL_PLANE_SECRETS.includes(name)) out[name] = value;
  out['PYTHONUNBUFFERED'] = '1';
  // Seldon's images have seldon-core-microservice on PATH; ours is python/bin's shim.
  out['PATH'] = out['PATH'] === undefined || out['PATH'] === '' ? PYTHON_HOST_BIN : `${PYTHON_HOST_BIN}:${out['PATH']}`;
  return out;
}

function pythonPath(existing: string | undefined): string {
  return existing === undefined || existing === '' ? PYTHON_PACKAGE_DIR : `${PYTHON_PACKAGE_DIR}:${existing}`;
}

/**
 * The Python for a user's class: the host needs numpy only, but a user's class usually imports
 * scikit-learn too, so with no TRANTOR_PYTHON (the control plane's, or the container's own) a
 * Python that also has sklearn and joblib is preferred.
 */
function pythonForUserClass(env: NodeJS.ProcessEnv, options: PlanOptions, field: string): PythonChoice {
  const find = options.python ?? findPython;
  const explicit = env['TRANTOR_PYTHON'] !== undefined && env['TRANTOR_PYTHON'] !== '';
  const richer = explicit ? null : find(SKLEARN_MODULES, env);
  return richer ?? pythonFor(PYTHON_HOST_MODULES, options, field, env);
}

/**
 * The Python for a prepackaged server: the one its variable names (tried first, as TRANTOR_PYTHON
 * is), else TRANTOR_PYTHON, python3 or /usr/bin/python3, whichever imports the server's modules.
 */
function pythonForServer(server: PythonServer, options: PlanOptions, field: string, env: NodeJS.ProcessEnv): PythonChoice {
  const variable = server.pythonVariable;
  const named = variable === undefined ? '' : (env[variable] ?? '');
  const choice = (options.python ?? findPython)(server.modules, named === '' ? env : { ...env, TRANTOR_PYTHON: named });
  if (choice === null) throw new TrantorError('NOT_SUPPORTED', `${field}: ${missingPythonAdvice(server.modules, variable)}`);
  return choice;
}

function pythonFor(modules: readonly string[], options: PlanOptions, field: string, env: NodeJS.ProcessEnv = options.env): PythonChoice {
  const choice = (options.python ?? findPython)(modules, env);
  if (choice === null) throw new TrantorError('NOT_SUPPORTED', `${field}: ${missingPythonAdvice(modules)}`);
  return choice;
}

/**
 * `file:Class` of a server class Trantor ships for the Node host (`module` under src/, e.g.
 * `component/servers/triton/server`): the compiled file when the host runs the compiled package,
 * else the TypeScript source, so the host never loads a mix of the two copies.
 */
export function shippedServerClass(module: string, className: string, host: readonly string[] | null = nodeHostCommand()): string {
  const built = join(PACKAGE_ROOT, 'dist', `${module}.js`);
  const runsBuilt = host !== null && host.some((arg) => arg.endsWith('.js'));
  return `${runsBuilt && existsSync(built) ? built : join(PACKAGE_ROOT, 'src', `${module}.ts`)}:${className}`;
}

/** `[node, …args]` that starts the Node host: the built one, else the source through tsx; null when neither can run. */
export function nodeHostCommand(): string[] | null {
  const built = join(PACKAGE_ROOT, 'dist', 'component', 'node-host.js');
  if (existsSync(built)) return [process.execPath, built];
  const source = join(PACKAGE_ROOT, 'src', 'component', 'node-host.ts');
  if (!existsSync(source)) return null;
  try {
    return [process.execPath, '--import', import.meta.resolve('tsx'), source];
  } catch {
    return null;
  }
}

export function launch(
  contract: Record<string, string>,
  replicas: number,
  command: string,
  args: readonly string[],
  cwd: string,
  env: Record<string, string>,
  image: string | undefined,
): ComponentLaunch {
  const fingerprint = createHash('sha256').update(JSON.stringify({ replicas, command, args, cwd, env: sorted(env), image })).digest('hex');
  const predictor = contract[COMPONENT_ENV.predictorId] ?? '';
  const node = contract[COMPONENT_ENV.unitId] ?? '';
  const result: ComponentLaunch = { predictor, node, replicas, command, args, cwd, env, fingerprint };
  if (image !== undefined) result.image = image;
  return result;
}

function sorted(env: Record<string, string>): [string, string][] {
  return Object.entries(env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
