/**
 * The local plan of a TRITON_SERVER node: the Node host serving `TritonOnnxServer` (an ONNX model
 * from a Triton model repository, run by ONNX Runtime) with the repository folder as its
 * `model_uri` parameter — fetched first by the supervisor when `modelUri` is remote. Seldon serves
 * Triton over the Open Inference Protocol only, so a `protocol: seldon` deployment is refused.
 */
import { COMPONENT_ENV, TrantorError } from '../../protocol/index.ts';
import type { GraphNode, SeldonDeployment } from '../../manifest/index.ts';
import { NODE_HOST_COMMAND, baseEnv, containerEnv, launch, modelOf, nodeHostCommand, shippedServerClass, withRemoteModel, workingDirOf } from './plan.ts';
import type { ComponentLaunch, FoundContainer, PlanOptions } from './plan.ts';

/** The class the Node host serves for TRITON_SERVER. */
export const TRITON_SERVER_CLASS = 'TritonOnnxServer';

export function planTriton(
  deployment: SeldonDeployment,
  node: GraphNode,
  path: string,
  found: FoundContainer | null,
  contract: Record<string, string>,
  replicas: number,
  baseDir: string,
  options: PlanOptions,
): ComponentLaunch {
  if (deployment.spec.protocol !== 'v2') {
    throw new TrantorError(
      'BAD_MANIFEST',
      `spec.protocol is ${deployment.spec.protocol}, but ${path}.implementation is TRITON_SERVER (node "${node.name}"), which Seldon serves over the Open Inference Protocol only: set spec.protocol: v2`,
    );
  }
  if (node.modelUri === undefined || node.modelUri === '') {
    throw new TrantorError('BAD_MANIFEST', `${path}.modelUri is required for TRITON_SERVER (node "${node.name}"): the Triton model repository (<model>/config.pbtxt, <model>/1/model.onnx)`);
  }
  const host = options.nodeHost === undefined ? nodeHostCommand() : options.nodeHost;
  if (host === null || host.length === 0) {
    throw new TrantorError(
      'NOT_SUPPORTED',
      `${path}.implementation TRITON_SERVER needs the Node host (${NODE_HOST_COMMAND}), which is not built and cannot run from source without tsx; run npm run build`,
    );
  }
  const model = modelOf(node, node.modelUri, path, baseDir, options);
  const parameters = model.parameters;
  const own = found === null ? {} : containerEnv(found.container);
  const env: Record<string, string> = { ...baseEnv(options.env), ...contract, [COMPONENT_ENV.parameters]: JSON.stringify(parameters), ...own };
  const cwd = found === null ? baseDir : workingDirOf(found.container, found.path, baseDir);
  const [executable = process.execPath, ...hostArgs] = host;
  const args = [...hostArgs, shippedServerClass('component/servers/triton/server', TRITON_SERVER_CLASS, host), '--service-type', 'MODEL'];
  return withRemoteModel(launch(contract, replicas, executable, args, cwd, env, found?.container.image), model.remote);
}
