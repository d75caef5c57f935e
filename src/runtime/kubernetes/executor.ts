/**
 * The executor container (`seldon-container-engine`) that walks a predictor's graph inside its
 * pod: Seldon's arguments, ports, probes and `ENGINE_PREDICTOR` (the predictor as base64 JSON, in
 * Seldon's own shape), so the in-pod executor reads its configuration the way Seldon's does.
 */
import type { GraphNode, Predictor, SeldonDeployment, Verbatim } from '../../manifest/index.ts';
import type { RenderConfig } from './config.ts';
import { ANNOTATIONS } from './names.ts';
import { envList, isRecord, records, type ContainerObject, type EnvEntry } from './objects.ts';

export const EXECUTOR_CONTAINER = 'seldon-container-engine';
export const ENGINE_PREDICTOR_ENV = 'ENGINE_PREDICTOR';

/** The downward-API volume with the pod's annotations, mounted in the executor and the components. */
export const PODINFO_VOLUME = 'seldon-podinfo';
export const PODINFO_PATH = '/etc/podinfo';

/** Where a graph node listens, as the executor is told in ENGINE_PREDICTOR. */
export interface NodeAddress {
  readonly host: string;
  readonly httpPort: number;
  readonly grpcPort: number;
}

/** The predictor as Seldon's executor reads it: graph endpoints filled in, replicas 0, no traffic, no explainer. */
export function enginePredictor(predictor: Predictor, addresses: ReadonlyMap<string, NodeAddress>, componentSpecs: readonly Verbatim[]): Verbatim {
  const out: Verbatim = {
    name: predictor.name,
    graph: engineNode(predictor.graph, addresses),
    componentSpecs: componentSpecs.map((c) => ({ ...c, metadata: { ...(isRecord(c['metadata']) ? c['metadata'] : {}), creationTimestamp: null } })),
    replicas: 0,
    labels: predictor.labels,
  };
  if (Object.keys(predictor.annotations).length > 0) out['annotations'] = predictor.annotations;
  if (predictor.shadow) out['shadow'] = true;
  if (predictor.svcOrchSpec !== undefined) out['svcOrchSpec'] = predictor.svcOrchSpec;
  if (predictor.ssl !== undefined) out['ssl'] = predictor.ssl;
  return out;
}

function engineNode(node: GraphNode, addresses: ReadonlyMap<string, NodeAddress>): Verbatim {
  const address = addresses.get(node.name);
  const endpoint: Verbatim = { type: node.endpoint.type };
  if (address !== undefined) {
    endpoint['service_host'] = address.host;
    endpoint['service_port'] = node.endpoint.type === 'GRPC' ? address.grpcPort : address.httpPort;
    endpoint['httpPort'] = address.httpPort;
    endpoint['grpcPort'] = address.grpcPort;
  }
  const out: Verbatim = { name: node.name };
  if (node.type !== undefined) out['type'] = node.type;
  if (node.implementation !== undefined) out['implementation'] = node.implementation;
  if (node.methods !== undefined) out['methods'] = node.methods;
  if (node.modelUri !== undefined) out['modelUri'] = node.modelUri;
  if (node.logger !== undefined) out['logger'] = node.logger;
  out['endpoint'] = endpoint;
  out['parameters'] = node.parameters;
  out['children'] = node.children.map((child) => engineNode(child, addresses));
  return out;
}

/** The executor container of a predictor's pod. */
export function executorContainer(sdep: SeldonDeployment, predictor: Predictor, engine: Verbatim, config: RenderConfig): ContainerObject {
  const e = config.executor;
  const scheme = predictor.ssl === undefined ? 'HTTP' : 'HTTPS';
  const probe = (path: string): Verbatim => ({
    httpGet: { path, port: e.port, scheme },
    initialDelaySeconds: 20,
    periodSeconds: 5,
    timeoutSeconds: 60,
    failureThreshold: 3,
    successThreshold: 1,
  });
  const svcOrch = predictor.svcOrchSpec ?? {};
  return {
    name: EXECUTOR_CONTAINER,
    image: e.image,
    command: ['trantor', 'executor'],
    args: [
      '--sdep', sdep.metadata.name,
      '--namespace', sdep.metadata.namespace,
      '--predictor', predictor.name,
      '--http_port', String(e.port),
      '--grpc_port', String(e.grpcPort),
      '--protocol', sdep.spec.protocol,
      '--transport', sdep.spec.transport,
      '--prometheus_path', e.prometheusPath,
      '--server_type', 'rpc',
      '--log_work_buffer_size', String(e.requestLoggerWorkQueueSize),
      '--log_write_timeout_ms', String(e.requestLoggerWriteTimeoutMs),
      `--full_health_checks=${String(e.fullHealthChecks)}`,
    ],
    env: executorEnv(sdep, engine, records(svcOrch['env']), config),
    // Seldon also lists `metrics` on 8000; one port may appear once for server-side apply, and /prometheus is served on http.
    ports: [
      { name: 'http', containerPort: e.port, protocol: 'TCP' },
      { name: 'grpc', containerPort: e.grpcPort, protocol: 'TCP' },
    ],
    readinessProbe: probe('/ready'),
    livenessProbe: probe('/live'),
    lifecycle: { preStop: { exec: { command: ['/bin/sh', '-c', '/bin/sleep 10'] } } },
    resources: isRecord(svcOrch['resources']) ? svcOrch['resources'] : structuredClone(e.resources),
    securityContext: { runAsUser: e.user, allowPrivilegeEscalation: false },
    volumeMounts: [{ name: PODINFO_VOLUME, mountPath: PODINFO_PATH }],
  };
}

function executorEnv(sdep: SeldonDeployment, engine: Verbatim, svcOrchEnv: Verbatim[], config: RenderConfig): Verbatim[] {
  const fromAnnotations: Record<string, string> = {};
  for (const [key, value] of Object.entries(sdep.spec.annotations)) {
    if (!key.startsWith(ANNOTATIONS.executorEnvPrefix)) continue;
    fromAnnotations[key.slice(ANNOTATIONS.executorEnvPrefix.length).toUpperCase().replaceAll('-', '_')] = value;
  }
  const base: EnvEntry[] = [
    { name: ENGINE_PREDICTOR_ENV, value: Buffer.from(JSON.stringify(engine)).toString('base64') },
    { name: 'REQUEST_LOGGER_DEFAULT_ENDPOINT', value: config.executor.requestLoggerDefaultEndpoint },
    ...envList(fromAnnotations),
  ];
  const given = new Set(svcOrchEnv.map((v) => v['name']));
  return [...base.filter((v) => !given.has(v.name)), ...svcOrchEnv];
}

/** The predictor ENGINE_PREDICTOR holds, decoded (for tests and for the in-pod executor). */
export function decodeEnginePredictor(value: string): Verbatim {
  const parsed: unknown = JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
  if (!isRecord(parsed)) throw new Error('ENGINE_PREDICTOR is not a JSON object');
  return parsed;
}
