/**
 * A graph node's container on Kubernetes: the image of a prepackaged server from the
 * `predictor_servers` table, Seldon's component environment and ports, default probes, and the
 * model: an init container that fetches `modelUri` into an emptyDir at /mnt/models (KServe's
 * storage-initializer contract, `[src, dest]`), or a PersistentVolumeClaim mounted at /mnt/pvc.
 */
import { isPrepackagedServer, type GraphNode, type Predictor, type SeldonDeployment, type Verbatim } from '../../manifest/index.ts';
import { COMPONENT_ENV, identityEnv, portEnv } from '../../protocol/index.ts';
import type { RenderConfig } from './config.ts';
import { PODINFO_PATH, PODINFO_VOLUME } from './executor.ts';
import { envList, isRecord, records, RenderError, withEntries, type ContainerObject } from './objects.ts';

export const MODEL_PATH = '/mnt/models';
/**
 * Trantor's own image (from any registry), whose entry point is `trantor`: its initializer runs
 * `trantor storage-init --no-cache SRC DEST`; any other image gets KServe's bare `[SRC, DEST]`.
 */
const TRANTOR_IMAGE = /(^|\/)trantor-ml\/trantor(:|@|$)/;
export const PVC_PATH = '/mnt/pvc';

/** Seldon's component variables that only Kubernetes pods get (MLServer's names, the metrics path, the executor flag). */
const POD_ENV = Object.freeze({
  mlserverHttpPort: 'MLSERVER_HTTP_PORT',
  mlserverGrpcPort: 'MLSERVER_GRPC_PORT',
  mlserverModelName: 'MLSERVER_MODEL_NAME',
  mlserverModelUri: 'MLSERVER_MODEL_URI',
  metricsEndpoint: 'PREDICTIVE_UNIT_METRICS_ENDPOINT',
  executorEnabled: 'SELDON_EXECUTOR_ENABLED',
} as const);

export interface NodePorts {
  readonly http: number;
  readonly grpc: number;
  readonly metrics: number;
}

/** What a node's model needs in its pod: volumes, an init container, and where the model is inside. */
export interface ModelMount {
  readonly volumes: Verbatim[];
  readonly initContainers: ContainerObject[];
  readonly mount: Verbatim;
  /** The path the server loads from (`model_uri`). */
  readonly path: string;
}

/** The image of a prepackaged server for the deployment's protocol, or a RenderError saying how to add one. */
export function serverImage(implementation: string, protocol: 'seldon' | 'v2', config: RenderConfig): string {
  const entry = config.predictorServers[implementation]?.protocols[protocol];
  if (entry === undefined) {
    throw new RenderError(`no image for implementation ${implementation} with protocol ${protocol}: add it to predictor_servers, or set the container's image in componentSpecs`);
  }
  return `${entry.image}:${entry.defaultImageVersion}`;
}

/** The volumes, init container and mount that put `node.modelUri` at the path the server reads. */
export function modelMount(node: GraphNode, container: string, config: RenderConfig): ModelMount | undefined {
  const uri = node.modelUri;
  if (uri === undefined || uri === '') return undefined;
  const pvc = /^pvc:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (pvc !== null) {
    const volume = `${container}-pvc-source`;
    return {
      volumes: [{ name: volume, persistentVolumeClaim: { claimName: pvc[1], readOnly: true } }],
      initContainers: [],
      mount: { name: volume, mountPath: PVC_PATH, readOnly: true },
      path: pvc[2] === '' ? PVC_PATH : `${PVC_PATH}/${pvc[2] ?? ''}`,
    };
  }
  const volume = `${container}-provision-location`;
  const secret = node.envSecretRefName ?? (config.predictiveUnit.defaultEnvSecretRefName || undefined);
  const image = node.storageInitializerImage ?? config.storageInitializer.image;
  const init: ContainerObject = {
    name: `${container}-model-initializer`,
    image,
    args: TRANTOR_IMAGE.test(image) ? ['storage-init', '--no-cache', uri, MODEL_PATH] : [uri, MODEL_PATH],
    volumeMounts: [{ name: volume, mountPath: MODEL_PATH }],
    resources: structuredClone(config.storageInitializer.resources),
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
  if (secret !== undefined) init['envFrom'] = [{ secretRef: { name: secret } }];
  return { volumes: [{ name: volume, emptyDir: {} }], initContainers: [init], mount: { name: volume, mountPath: MODEL_PATH, readOnly: true }, path: MODEL_PATH };
}

/**
 * The container of graph node `node` with Seldon's defaults added where the user set nothing:
 * image (prepackaged servers), ports, environment, probes, preStop, the pod-info and model mounts.
 */
export function componentContainer(
  written: Verbatim,
  node: GraphNode,
  ports: NodePorts,
  model: ModelMount | undefined,
  sdep: SeldonDeployment,
  predictor: Predictor,
  config: RenderConfig,
): ContainerObject {
  const c: ContainerObject = { ...structuredClone(written), name: node.name };
  if (typeof c['image'] !== 'string' || c['image'] === '') {
    if (isPrepackagedServer(node.implementation)) c['image'] = serverImage(node.implementation ?? '', sdep.spec.protocol, config);
  }
  // Triton's image serves nothing by itself: started as Seldon starts it, on the node's ports, over the model's repository.
  if (node.implementation === 'TRITON_SERVER' && c['args'] === undefined && c['command'] === undefined && model !== undefined) {
    c['args'] = ['/opt/tritonserver/bin/tritonserver', `--grpc-port=${ports.grpc}`, `--http-port=${ports.http}`, `--model-repository=${model.path}`, '--strict-model-config=false'];
  }
  c['ports'] = withEntries(c['ports'], [
    { name: 'http', containerPort: ports.http, protocol: 'TCP' },
    { name: 'grpc', containerPort: ports.grpc, protocol: 'TCP' },
    { name: 'metrics', containerPort: ports.metrics, protocol: 'TCP' },
  ], ['name', 'containerPort']);
  const parameters: unknown[] = [...node.parameters];
  if (model !== undefined && isPrepackagedServer(node.implementation)) parameters.push({ name: 'model_uri', value: model.path, type: 'STRING' });
  const env: Record<string, string> = {
    ...portEnv(ports),
    [POD_ENV.mlserverHttpPort]: String(ports.http),
    [POD_ENV.mlserverGrpcPort]: String(ports.grpc),
    [COMPONENT_ENV.parameters]: JSON.stringify(parameters),
  };
  if (model !== undefined) env[POD_ENV.mlserverModelUri] = model.path;
  Object.assign(env, identityEnv({ unit: node.name, predictor: predictor.name, deployment: sdep.metadata.name, predictorLabels: predictor.labels }), {
    [POD_ENV.mlserverModelName]: node.name,
    [COMPONENT_ENV.image]: typeof c['image'] === 'string' ? c['image'] : '',
    [POD_ENV.executorEnabled]: 'true',
    [POD_ENV.metricsEndpoint]: config.executor.prometheusPath,
  });
  c['env'] = withEntries(c['env'], envList(env));
  const probePort = node.endpoint.type === 'GRPC' ? 'grpc' : 'http';
  if (!isRecord(c['readinessProbe'])) c['readinessProbe'] = { tcpSocket: { port: probePort }, initialDelaySeconds: 20, periodSeconds: 5 };
  if (!isRecord(c['livenessProbe'])) c['livenessProbe'] = { tcpSocket: { port: probePort }, initialDelaySeconds: 60, periodSeconds: 5 };
  if (!isRecord(c['lifecycle'])) c['lifecycle'] = { preStop: { exec: { command: ['/bin/sh', '-c', '/bin/sleep 10'] } } };
  const mounts = [{ name: PODINFO_VOLUME, mountPath: PODINFO_PATH }];
  if (model !== undefined) mounts.push(model.mount as { name: string; mountPath: string });
  c['volumeMounts'] = withEntries(c['volumeMounts'], mounts, ['name', 'mountPath']);
  return c;
}

/** The port of that name the user already gave the container, which Seldon keeps. */
export function writtenPort(written: Verbatim | undefined, name: 'http' | 'grpc' | 'metrics'): number | undefined {
  const port = records(written?.['ports']).find((p) => p['name'] === name)?.['containerPort'];
  return typeof port === 'number' ? port : undefined;
}
