/**
 * What sits in front of a SeldonDeployment's predictors. By default, Trantor's own gateway (a
 * Deployment and Service per SeldonDeployment) serves `/seldon/<ns>/<sdep>/…` with the traffic
 * split and the shadow, so no service mesh is needed; an Ingress or a Gateway API HTTPRoute can
 * expose it. For those who run a mesh, Seldon's Istio VirtualService and DestinationRules and
 * Ambassador Mappings are made when enabled, as Seldon's operator makes them.
 */
import { graphNodes, type Predictor, type SeldonDeployment, type Verbatim } from '../../manifest/index.ts';
import type { RenderConfig } from './config.ts';
import { ANNOTATIONS, deploymentAnnotation, deploymentIdLabel, gatewayName, ingressPrefix, LABELS, MANAGED_BY, predictorServiceName, routeName, serviceHost } from './names.ts';
import type { KubeObject, ObjectMetadata } from './objects.ts';

/**
 * The environment variable that tells the gateway its predictors: JSON `[{name, traffic, shadow,
 * http, grpc, nodes, protocol}]` (`nodes`: the graph's node names, for routing feedback;
 * `protocol`: the deployment's `spec.protocol`, which the executors answer at their root).
 */
export const GATEWAY_PREDICTORS_ENV = 'TRANTOR_GATEWAY_PREDICTORS';

/** gRPC methods of Seldon's and the Open Inference Protocol's services, routed by the `seldon` and `namespace` headers. */
const GRPC_METHODS = String.raw`/(seldon\.protos\..*|tensorflow\.serving\..*|inference\.GRPCInferenceService)/.*`;

export function routeObjects(sdep: SeldonDeployment, config: RenderConfig): KubeObject[] {
  const out: KubeObject[] = [];
  if (config.gateway.enabled) {
    out.push(...gateway(sdep, config));
    if (config.ingress.enabled) out.push(ingress(sdep, config));
    if (config.gatewayApi.enabled) out.push(httpRoute(sdep, config));
  }
  if (config.istio.enabled) out.push(virtualService(sdep, config), ...sdep.spec.predictors.map((p) => destinationRule(sdep, p, config)));
  if (config.ambassador.enabled) out.push(...sdep.spec.predictors.flatMap((p) => mappings(sdep, p, config)));
  return out;
}

function metadata(sdep: SeldonDeployment, name: string, labels: Record<string, string> = {}): ObjectMetadata {
  return { name, namespace: sdep.metadata.namespace, labels: { ...labels, ...deploymentIdLabel(sdep), [LABELS.managedBy]: MANAGED_BY } };
}

function predictorHost(sdep: SeldonDeployment, predictor: Predictor): string {
  return serviceHost(predictorServiceName(sdep, predictor), sdep.metadata.namespace);
}

function gateway(sdep: SeldonDeployment, config: RenderConfig): KubeObject[] {
  const name = gatewayName(sdep);
  const selector = { ...deploymentIdLabel(sdep), app: name };
  const { port, grpcPort } = config.executor;
  const predictors = sdep.spec.predictors.map((p) => ({
    name: p.name,
    traffic: p.traffic,
    shadow: p.shadow,
    http: `http://${predictorHost(sdep, p)}:${port}`,
    grpc: `${predictorHost(sdep, p)}:${grpcPort}`,
    nodes: graphNodes(p).map((n) => n.name),
    protocol: sdep.spec.protocol,
  }));
  const probe = (path: string, delay: number): Verbatim => ({ httpGet: { path, port: 'http' }, initialDelaySeconds: delay, periodSeconds: 5 });
  const deployment: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: metadata(sdep, name, { app: name }),
    spec: {
      replicas: config.gateway.replicas,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels: { ...selector, [LABELS.managedBy]: MANAGED_BY } },
        spec: {
          containers: [
            {
              name: 'gateway',
              image: config.gateway.image,
              command: ['trantor', 'gateway'],
              args: ['--sdep', sdep.metadata.name, '--namespace', sdep.metadata.namespace, '--http_port', String(port), '--grpc_port', String(grpcPort)],
              env: [{ name: GATEWAY_PREDICTORS_ENV, value: JSON.stringify(predictors) }],
              ports: [
                { name: 'http', containerPort: port, protocol: 'TCP' },
                { name: 'grpc', containerPort: grpcPort, protocol: 'TCP' },
              ],
              readinessProbe: probe('/ready', 5),
              livenessProbe: probe('/live', 20),
              resources: structuredClone(config.gateway.resources),
              securityContext: { runAsNonRoot: true, runAsUser: config.defaultUserId, allowPrivilegeEscalation: false },
            },
          ],
          terminationGracePeriodSeconds: 20,
        },
      },
    },
  };
  const service: KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(sdep, name, { app: name }),
    spec: {
      selector,
      ports: [
        { name: 'http', port, targetPort: 'http', protocol: 'TCP' },
        { name: 'grpc', port: grpcPort, targetPort: 'grpc', protocol: 'TCP' },
      ],
      type: 'ClusterIP',
    },
  };
  return [service, deployment];
}

/** The prefix without its trailing slash: Ingress and Gateway API prefixes match whole path segments. */
function pathPrefix(sdep: SeldonDeployment): string {
  return ingressPrefix(sdep).replace(/\/$/, '');
}

function ingress(sdep: SeldonDeployment, config: RenderConfig): KubeObject {
  const rule: Verbatim = {
    http: { paths: [{ path: pathPrefix(sdep), pathType: 'Prefix', backend: { service: { name: gatewayName(sdep), port: { name: 'http' } } } }] },
  };
  if (config.ingress.host !== '') rule['host'] = config.ingress.host;
  const spec: Verbatim = { rules: [rule] };
  if (config.ingress.className !== '') spec['ingressClassName'] = config.ingress.className;
  return { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: metadata(sdep, routeName(sdep)), spec };
}

function httpRoute(sdep: SeldonDeployment, config: RenderConfig): KubeObject {
  const spec: Verbatim = {
    parentRefs: config.gatewayApi.parentRefs.map((ref) => ({ ...ref })),
    rules: [{ matches: [{ path: { type: 'PathPrefix', value: pathPrefix(sdep) } }], backendRefs: [{ name: gatewayName(sdep), port: config.executor.port }] }],
  };
  if (config.gatewayApi.hostnames.length > 0) spec['hostnames'] = [...config.gatewayApi.hostnames];
  return { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: metadata(sdep, routeName(sdep)), spec };
}

/** Istio's VirtualService, as Seldon makes it: REST under the prefix, gRPC by headers; traffic weights; the shadow mirrored. */
function virtualService(sdep: SeldonDeployment, config: RenderConfig): KubeObject {
  const annotation = (key: string): string | undefined => deploymentAnnotation(sdep, key);
  const destination = (p: Predictor, port: number): Verbatim => ({ host: predictorHost(sdep, p), subset: p.name, port: { number: port } });
  const live = sdep.spec.predictors.filter((p) => !p.shadow);
  const shadow = sdep.spec.predictors.find((p) => p.shadow);
  const http = (match: Verbatim, port: number, rewrite: boolean): Verbatim => {
    const route: Verbatim = { match: [match], route: live.map((p) => ({ destination: destination(p, port), weight: p.traffic })) };
    if (rewrite) route['rewrite'] = { uri: '/' };
    if (shadow !== undefined) {
      route['mirror'] = destination(shadow, port);
      route['mirrorPercentage'] = { value: 100 };
    }
    const attempts = annotation(ANNOTATIONS.istioRetries);
    if (attempts !== undefined && /^\d+$/.test(attempts)) {
      const retries: Verbatim = { attempts: Number(attempts) };
      const timeout = annotation(ANNOTATIONS.istioRetriesTimeout);
      if (timeout !== undefined) retries['perTryTimeout'] = timeout;
      route['retries'] = retries;
    }
    return route;
  };
  const { name, namespace } = sdep.metadata;
  return {
    apiVersion: 'networking.istio.io/v1beta1',
    kind: 'VirtualService',
    metadata: metadata(sdep, routeName(sdep)),
    spec: {
      hosts: [annotation(ANNOTATIONS.istioHost) ?? '*'],
      gateways: [annotation(ANNOTATIONS.istioGateway) ?? config.istio.gateway],
      http: [
        http({ uri: { prefix: ingressPrefix(sdep) } }, config.executor.port, true),
        http({ uri: { regex: GRPC_METHODS }, headers: { seldon: { exact: name }, namespace: { exact: namespace } } }, config.executor.grpcPort, false),
      ],
    },
  };
}

function destinationRule(sdep: SeldonDeployment, predictor: Predictor, config: RenderConfig): KubeObject {
  const name = predictorServiceName(sdep, predictor);
  const trafficPolicy = config.istio.tlsMode === '' ? { connectionPool: { http: { idleTimeout: '60s' } } } : { tls: { mode: config.istio.tlsMode } };
  return {
    apiVersion: 'networking.istio.io/v1beta1',
    kind: 'DestinationRule',
    metadata: metadata(sdep, name),
    spec: { host: name, trafficPolicy, subsets: [{ name: predictor.name, labels: { version: predictor.labels['version'] ?? predictor.name } }] },
  };
}

/** Ambassador's v2 Mappings for one predictor: REST under the prefix, gRPC by headers. */
function mappings(sdep: SeldonDeployment, predictor: Predictor, config: RenderConfig): KubeObject[] {
  const { name, namespace } = sdep.metadata;
  const host = `${predictorServiceName(sdep, predictor)}.${namespace}`;
  const base = (port: number, timeout: string | undefined): Verbatim => {
    const spec: Verbatim = { service: `${host}:${port}`, timeout_ms: Number(timeout ?? 3000) };
    if (predictor.shadow) spec['shadow'] = true;
    else if (predictor.traffic !== 100) spec['weight'] = predictor.traffic;
    return spec;
  };
  const rest: Verbatim = { ...base(config.executor.port, deploymentAnnotation(sdep, ANNOTATIONS.restTimeout)), prefix: ingressPrefix(sdep), rewrite: '/' };
  const grpc: Verbatim = {
    ...base(config.executor.grpcPort, deploymentAnnotation(sdep, ANNOTATIONS.grpcTimeout)),
    grpc: true,
    prefix: GRPC_METHODS,
    prefix_regex: true,
    rewrite: '',
    headers: { seldon: name, namespace },
  };
  const prefix = `seldon-${namespace}-${name}-${predictor.name}`;
  return [
    { apiVersion: 'getambassador.io/v2', kind: 'Mapping', metadata: metadata(sdep, `${prefix}-rest`), spec: rest },
    { apiVersion: 'getambassador.io/v2', kind: 'Mapping', metadata: metadata(sdep, `${prefix}-grpc`), spec: grpc },
  ];
}
