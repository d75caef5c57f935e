/**
 * The local plan of a SKLEARN_SERVER node whose deployment carries `trantor.io/sklearn-onnx: "true"`:
 * the Node host serving `src/component/servers/sklearn-onnx.ts` instead of the Python host, with
 * the Python that converts the model at load named in TRANTOR_SKLEARN_ONNX_PYTHON — one with
 * skl2onnx, or scikit-learn alone when a `model.onnx` lies beside `model.joblib`. With
 * `trantor.io/in-process` as well, the class is loaded into the control plane (`inProcess`).
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { COMPONENT_ENV, TrantorError } from '../../protocol/index.ts';
import { IN_PROCESS_ANNOTATION, SKLEARN_ONNX_ANNOTATION, servesInProcess, servesSklearnAsOnnx } from '../../manifest/index.ts';
import type { Parameter, Predictor, SeldonDeployment } from '../../manifest/index.ts';
import { NODE_HOST_COMMAND, launch, nodeHostCommand, shippedServerClass, type ComponentLaunch, type PlanOptions } from './plan.ts';
import { findPython, missingPythonAdvice } from './python.ts';

/** The environment variable the server class reads its Python from (servers/sklearn-onnx.ts). */
export const SKLEARN_ONNX_PYTHON_ENV = 'TRANTOR_SKLEARN_ONNX_PYTHON';
/** What the export helper imports: converting needs skl2onnx; a model.onnx beside the model needs scikit-learn only. */
export const SKLEARN_ONNX_MODULES = ['numpy', 'sklearn', 'joblib', 'skl2onnx'] as const;
const SKLEARN_ONLY_MODULES = ['numpy', 'sklearn', 'joblib'] as const;
const SERVER_CLASS = 'SklearnOnnxServer';

/** `file:Class` for the Node host `host` (default: the one `trantor up` starts, whose package loads in process too). */
export function sklearnOnnxClass(host?: readonly string[] | null): string {
  return shippedServerClass('component/servers/sklearn-onnx', SERVER_CLASS, host);
}

/** Where the annotation is set, for messages: the first of the predictor's, metadata's and spec's. */
function annotationField(deployment: Pick<SeldonDeployment, 'metadata' | 'spec'>, predictor: Predictor, p: number): { field: string; value: string } | null {
  const places: [string, Record<string, string>][] = [
    [`spec.predictors[${p}].annotations`, predictor.annotations],
    ['metadata.annotations', deployment.metadata.annotations],
    ['spec.annotations', deployment.spec.annotations],
  ];
  for (const [field, annotations] of places) {
    const value = annotations[SKLEARN_ONNX_ANNOTATION];
    if (value !== undefined) return { field: `${field}["${SKLEARN_ONNX_ANNOTATION}"]`, value };
  }
  return null;
}

function modelOnnxBeside(modelPath: string): boolean {
  try {
    const folder = statSync(modelPath).isDirectory() ? modelPath : dirname(modelPath);
    return existsSync(join(folder, 'model.onnx'));
  } catch {
    return false;
  }
}

/**
 * `planned` (the Python host's launch of a SKLEARN_SERVER node) as the Node host's, when the
 * deployment asks for ONNX; `planned` itself otherwise. Throws a TrantorError naming the field.
 */
export function planSklearnOnnx(deployment: SeldonDeployment, predictor: Predictor, p: number, path: string, planned: ComponentLaunch, options: PlanOptions): ComponentLaunch {
  const set = annotationField(deployment, predictor, p);
  if (set === null) return planned;
  if (set.value !== 'true' && set.value !== 'false') {
    throw new TrantorError('BAD_MANIFEST', `${set.field}: expected "true" or "false", got ${JSON.stringify(set.value)}`);
  }
  if (!servesSklearnAsOnnx(deployment, predictor)) return planned;

  const parameters = JSON.parse(planned.env[COMPONENT_ENV.parameters] ?? '[]') as Parameter[];
  const modelUri = String(parameters.find((x) => x.name === 'model_uri')?.value ?? '');
  const inProcess = servesInProcess(deployment);
  if (inProcess && planned.remoteModel !== undefined) {
    throw new TrantorError(
      'NOT_SUPPORTED',
      `${planned.remoteModel.field} ${planned.remoteModel.uri}: a model served in process (${IN_PROCESS_ANNOTATION}) must be in a local folder, ` +
        `since remote models are fetched before processes start; remove the ${IN_PROCESS_ANNOTATION} annotation to serve it as ONNX in its own process, or use a local path`,
    );
  }
  const modules = planned.remoteModel === undefined && modelOnnxBeside(modelUri) ? SKLEARN_ONLY_MODULES : SKLEARN_ONNX_MODULES;
  const python = (options.python ?? findPython)(modules, planned.env);
  if (python === null) {
    throw new TrantorError('NOT_SUPPORTED', `${path}.implementation SKLEARN_SERVER with ${set.field}: ${missingPythonAdvice(modules)}`);
  }
  const env: Record<string, string> = { ...planned.env, [SKLEARN_ONNX_PYTHON_ENV]: python.executable };
  if (inProcess) {
    // The control plane loads the class with the launch's parameters only: the Python goes there.
    env[COMPONENT_ENV.parameters] = JSON.stringify([...parameters.filter((x) => x.name !== 'python'), { name: 'python', value: python.executable, type: 'STRING' }]);
    const relaunched = launch(env, 0, NODE_HOST_COMMAND, [sklearnOnnxClass(), '--service-type', 'MODEL'], planned.cwd, env, planned.image);
    return { ...planned, ...relaunched, inProcess: true };
  }
  const host = options.nodeHost === undefined ? nodeHostCommand() : options.nodeHost;
  if (host === null || host.length === 0) {
    throw new TrantorError('NOT_SUPPORTED', `${set.field}: serving SKLEARN_SERVER as ONNX needs the Node host, which is not built and cannot run from source without tsx; run npm run build`);
  }
  const [executable = process.execPath, ...rest] = host;
  const args = [...rest, sklearnOnnxClass(host), '--service-type', 'MODEL'];
  // Spread over `planned`, so a remote model is still fetched first.
  return { ...planned, ...launch(env, planned.replicas, executable, args, planned.cwd, env, planned.image) };
}
