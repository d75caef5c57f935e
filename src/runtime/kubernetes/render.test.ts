import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { HTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute';
import { DestinationRule } from '@kubernetes-models/istio/networking.istio.io/v1beta1/DestinationRule';
import { VirtualService } from '@kubernetes-models/istio/networking.istio.io/v1beta1/VirtualService';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Service } from 'kubernetes-models/v1/Service';
import { parse, stringify } from 'yaml';
import { loadManifests, type GraphNode, type SeldonDeployment } from '../../manifest/index.ts';
import { decodeEnginePredictor, DEFAULT_RENDER_CONFIG, IMAGE_TAG, render, renderConfig, RenderError, type KubeObject, type RenderConfig, type Rendered } from './index.ts';
import { exampleAndSeedManifests, featuresManifest, ROOT, TESTDATA } from './testing.ts';
import { modelMount } from './prepack.ts';
const UPDATE = process.env['UPDATE_GOLDEN'] === '1';

/** Every integration on, for the features fixture. */
const EVERYTHING: RenderConfig = renderConfig({
  keda: { enabled: true },
  istio: { enabled: true },
  ambassador: { enabled: true },
  ingress: { enabled: true, className: 'nginx', host: 'models.example.com' },
  gatewayApi: { enabled: true, parentRefs: [{ name: 'public', namespace: 'gateways' }], hostnames: ['models.example.com'] },
});

const OWNER = { uid: '00000000-0000-4000-8000-000000000000' };

interface Validator {
  validate(): void;
}
type ModelClass = new (data: never) => Validator;

/** Kubernetes' own schemas (and Istio's, KEDA's, Gateway API's), by apiVersion and kind. */
const MODELS: Readonly<Record<string, ModelClass>> = {
  'apps/v1/Deployment': Deployment,
  'v1/Service': Service,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/Ingress': Ingress,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
  'networking.istio.io/v1beta1/VirtualService': VirtualService,
  'networking.istio.io/v1beta1/DestinationRule': DestinationRule,
  'gateway.networking.k8s.io/v1/HTTPRoute': HTTPRoute,
};

/** Ambassador publishes no schema package: its Mappings are checked by hand for the fields it needs. */
function validateMapping(object: KubeObject): void {
  assert.equal(typeof object.spec['service'], 'string', `${object.metadata.name}: spec.service`);
  assert.equal(typeof object.spec['prefix'], 'string', `${object.metadata.name}: spec.prefix`);
}

function validate(object: KubeObject, where: string): void {
  assert.ok(object.metadata.name.length <= 253 && /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(object.metadata.name), `${where}: name ${object.metadata.name}`);
  const template = (object.spec['template'] as { metadata?: { labels?: Record<string, string> } } | undefined)?.metadata?.labels ?? {};
  for (const [key, value] of [...Object.entries(object.metadata.labels), ...Object.entries(template)]) {
    const name = key.slice(key.indexOf('/') + 1);
    assert.ok(name.length <= 63 && /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(name), `${where}: label key ${key}`);
    assert.ok(value.length <= 63 && /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/.test(value), `${where}: label ${key}=${value}`);
  }
  if (object.kind === 'Mapping') return validateMapping(object);
  const Model = MODELS[`${object.apiVersion}/${object.kind}`];
  assert.ok(Model !== undefined, `${where}: no schema for ${object.apiVersion} ${object.kind}`);
  try {
    new Model(JSON.parse(JSON.stringify(object)) as never).validate();
  } catch (err) {
    assert.fail(`${where}: ${object.kind} ${object.metadata.name} is not valid: ${String(err)}`);
  }
}

/** The golden form: the address, each executor's ENGINE_PREDICTOR decoded, then the objects. */
function goldenOf(rendered: readonly Rendered[]): string {
  return rendered
    .map((r) => {
      const enginePredictors: Record<string, unknown> = {};
      for (const object of r.objects) {
        const value = engineValue(object);
        if (value !== undefined) enginePredictors[object.metadata.name] = decodeEnginePredictor(value);
      }
      return stringify({ address: r.address, enginePredictors, objects: r.objects }, { aliasDuplicateObjects: false, lineWidth: 0 });
    })
    .join('---\n');
}

function engineValue(object: KubeObject): string | undefined {
  const containers = ((object.spec['template'] as { spec?: { containers?: { name: string; env?: { name: string; value?: string }[] }[] } } | undefined)?.spec?.containers) ?? [];
  return containers.find((c) => c.name === 'seldon-container-engine')?.env?.find((e) => e.name === 'ENGINE_PREDICTOR')?.value;
}

function assertGolden(name: string, rendered: readonly Rendered[]): void {
  const file = join(TESTDATA, `${name}.golden.yaml`);
  const actual = goldenOf(rendered);
  if (UPDATE || !existsSync(file)) {
    if (!UPDATE) assert.fail(`${relative(ROOT, file)} is missing: run with UPDATE_GOLDEN=1 to write it, then read it`);
    writeFileSync(file, actual);
    return;
  }
  assert.equal(actual, readFileSync(file, 'utf8'), `${relative(ROOT, file)} differs (UPDATE_GOLDEN=1 rewrites it; review the diff)`);
}

function deploymentsOf(text: string): SeldonDeployment[] {
  return loadManifests(text, {}).deployments;
}

/** SeldonDeployment `x` with one predictor `p`, whose other fields are `fields` (YAML, indented 4). */
function deploymentX(fields: string): SeldonDeployment[] {
  return deploymentsOf(`apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: x}
spec:
  predictors:
  - name: p${fields.trimEnd()}
`);
}

function only(rendered: Rendered, kind: string, name?: string): KubeObject {
  const found = rendered.objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  assert.equal(found.length, 1, `expected one ${kind} ${name ?? ''}, got ${found.map((o) => o.metadata.name).join(', ')}`);
  return found[0]!;
}

function podSpecOf(deployment: KubeObject): { containers: Record<string, unknown>[]; initContainers?: Record<string, unknown>[]; volumes?: Record<string, unknown>[] } & Record<string, unknown> {
  return (deployment.spec['template'] as { spec: never }).spec;
}

const FEATURES = deploymentsOf(featuresManifest().text);
const [SCALED, LONG, DIRECT] = FEATURES.map((d) => render(d, EVERYTHING, OWNER)) as [Rendered, Rendered, Rendered];

test('every example manifest and seed manifest renders to its golden file, every object valid against Kubernetes schemas', () => {
  let count = 0;
  for (const { name, text } of exampleAndSeedManifests()) {
    const deployments = deploymentsOf(text);
    if (deployments.length === 0) continue;
    const rendered = deployments.map((d) => render(d, DEFAULT_RENDER_CONFIG, OWNER));
    for (const r of rendered) for (const object of r.objects) validate(object, name);
    assertGolden(name, rendered);
    count += deployments.length;
  }
  assert.ok(count >= 12, `only ${count} SeldonDeployments among the examples and seeds`);
});

test('the features fixture renders to its golden file with every integration on, every object valid', () => {
  for (const r of [SCALED, LONG, DIRECT]) for (const object of r.objects) validate(object, 'features');
  assertGolden('features', [SCALED, LONG, DIRECT]);
});

test("the seed's iris model becomes Seldon's objects, name for name", () => {
  const [sdep] = deploymentsOf(readFileSync(join(TESTDATA, 'seed-sample.yaml'), 'utf8'));
  const rendered = render(sdep!, DEFAULT_RENDER_CONFIG);
  assert.deepEqual(
    rendered.objects.map((o) => `${o.kind}/${o.metadata.name}`),
    ['Service/iris-model-default', 'Service/iris-model-default-classifier', 'Deployment/iris-model-default-0-classifier', 'Service/iris-model-gateway', 'Deployment/iris-model-gateway'],
  );
  assert.equal(rendered.address, 'http://iris-model-default.seldon.svc.cluster.local:8000/api/v1.0/predictions');
  const deployment = only(rendered, 'Deployment', 'iris-model-default-0-classifier');
  assert.deepEqual((deployment.spec['selector'] as { matchLabels: unknown }).matchLabels, {
    'seldon-deployment-id': 'iris-model',
    'seldon-app-svc-classifier': 'iris-model-default-classifier',
    'seldon-app': 'iris-model-default',
  });
  assert.equal(deployment.metadata.labels['app'], 'iris-model-default-0-classifier');
  assert.equal(deployment.metadata.labels['fluentd'], 'true');
  assert.equal(deployment.metadata.labels['seldon.io/model'], 'true');
  const pod = podSpecOf(deployment);
  assert.deepEqual(pod.containers.map((c) => c['name']), ['classifier', 'seldon-container-engine']);
  assert.deepEqual(pod.initContainers?.map((c) => [c['name'], c['args']]), [
    ['classifier-model-initializer', ['storage-init', '--no-cache', 'gs://seldon-models/v1.11.0-dev/sklearn/iris', '/mnt/models']],
  ]);
  assert.equal(pod.initContainers?.[0]?.['image'], DEFAULT_RENDER_CONFIG.executor.image, "Trantor's own image is the default initializer");
  assert.deepEqual(pod.volumes?.find((v) => v['name'] === 'classifier-provision-location'), { name: 'classifier-provision-location', emptyDir: {} });
  const model = pod.containers[0]!;
  const env = Object.fromEntries((model['env'] as { name: string; value: string }[]).map((e) => [e.name, e.value]));
  assert.equal(env['PREDICTIVE_UNIT_HTTP_SERVICE_PORT'], '9000');
  assert.equal(env['PREDICTIVE_UNIT_ID'], 'classifier');
  assert.equal(env['PREDICTOR_ID'], 'default');
  assert.equal(env['SELDON_DEPLOYMENT_ID'], 'iris-model');
  assert.equal(env['PREDICTOR_LABELS'], '{"version":"default"}');
  assert.deepEqual(JSON.parse(env['PREDICTIVE_UNIT_PARAMETERS'] ?? ''), [{ name: 'model_uri', value: '/mnt/models', type: 'STRING' }]);
  assert.deepEqual(model['volumeMounts'], [
    { name: 'seldon-podinfo', mountPath: '/etc/podinfo' },
    { name: 'classifier-provision-location', mountPath: '/mnt/models', readOnly: true },
  ]);
});

test('ENGINE_PREDICTOR holds the predictor in Seldon shape: localhost for nodes in its pod, the node Service for the others', () => {
  const engine = decodeEnginePredictor(engineValue(only(SCALED, 'Deployment', 'scaled-main-0-transformer'))!);
  assert.equal(engine['replicas'], 0);
  assert.equal(engine['traffic'], undefined);
  const graph = engine['graph'] as { endpoint: Record<string, unknown>; children: { endpoint: Record<string, unknown> }[] };
  assert.deepEqual(graph.endpoint, { type: 'REST', service_host: 'localhost', service_port: 9000, httpPort: 9000, grpcPort: 9500 });
  assert.deepEqual(graph.children[0]?.endpoint, { type: 'REST', service_host: 'scaled-main-model.ml.svc.cluster.local', service_port: 9001, httpPort: 9001, grpcPort: 9501 });
  const executor = podSpecOf(only(SCALED, 'Deployment', 'scaled-main-0-transformer')).containers.find((c) => c['name'] === 'seldon-container-engine')!;
  const env = executor['env'] as { name: string; value?: string }[];
  assert.ok(env.some((e) => e.name === 'SELDON_LOG_MESSAGES_EXTERNALLY' && e.value === 'true'), 'seldon.io/engine-* annotations become executor env');
  assert.ok(env.some((e) => e.name === 'SELDON_LOG_LEVEL' && e.value === 'DEBUG'), 'svcOrchSpec.env');
  assert.deepEqual(executor['resources'], { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '2', memory: '2Gi' } });
});

test('a componentSpec PodSpec reaches its Deployment whole: GPUs, tolerations, pull secrets, volumes, service account', () => {
  const deployment = only(SCALED, 'Deployment', 'scaled-main-1-gpu');
  const pod = podSpecOf(deployment);
  assert.deepEqual(pod['tolerations'], [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
  assert.deepEqual(pod['imagePullSecrets'], [{ name: 'registry' }]);
  assert.deepEqual(pod['nodeSelector'], { accelerator: 'a100' });
  assert.equal(pod['serviceAccountName'], 'vision');
  assert.ok(pod.volumes?.some((v) => v['name'] === 'cache'));
  const model = pod.containers.find((c) => c['name'] === 'model')!;
  assert.deepEqual(model['resources'], { limits: { 'nvidia.com/gpu': 1, memory: '8Gi' }, requests: { cpu: '2' } });
  const env = model['env'] as { name: string; value?: string; valueFrom?: unknown }[];
  assert.equal(env.find((e) => e.name === 'PREDICTIVE_UNIT_SERVICE_PORT')?.value, '7000', "the user's own value wins");
  assert.ok(env.some((e) => e.name === 'TOKEN' && e.valueFrom !== undefined));
  assert.deepEqual(pod.containers.find((c) => c['name'] === 'sidecar'), { name: 'sidecar', image: 'me/sidecar:1' }, 'a container that is no graph node is left alone');
  const template = deployment.spec['template'] as { metadata: { labels: Record<string, string>; annotations: Record<string, string> } };
  assert.equal(template.metadata.labels['team'], 'vision');
  assert.equal(template.metadata.annotations['owner'], 'vision@example.com');
});

test('replicas are left out of a Deployment whose HPA or ScaledObject owns scaling, and kept otherwise', () => {
  assert.equal('replicas' in only(SCALED, 'Deployment', 'scaled-main-0-transformer').spec, false);
  assert.equal('replicas' in only(SCALED, 'Deployment', 'scaled-main-1-gpu').spec, false);
  const hpa = only(SCALED, 'HorizontalPodAutoscaler', 'scaled-main-0-transformer');
  assert.deepEqual(hpa.spec['metrics'], [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }]);
  assert.equal(only(SCALED, 'ScaledObject', 'scaled-main-1-gpu').spec['idleReplicaCount'], 0);
  // Without KEDA installed (the default) there is no ScaledObject, so the Deployment keeps its replicas.
  const plain = render(FEATURES[0]!, DEFAULT_RENDER_CONFIG);
  assert.equal(plain.objects.filter((o) => o.kind === 'ScaledObject').length, 0);
  assert.equal(only(plain, 'Deployment', 'scaled-main-1-gpu').spec['replicas'], 2);
});

test("a PodDisruptionBudget selects only its own componentSpec's pods", () => {
  const pdb = only(SCALED, 'PodDisruptionBudget', 'scaled-main-1-gpu');
  assert.deepEqual(pdb.spec['selector'], only(SCALED, 'Deployment', 'scaled-main-1-gpu').spec['selector']);
  assert.deepEqual(pdb.spec['selector'], { matchLabels: { 'seldon-deployment-id': 'scaled', 'seldon-app-svc-model': 'scaled-main-model' } });
  assert.equal(pdb.spec['maxUnavailable'], 1);
});

test('names longer than 63 characters become seldon-<md5 of the name>; seldon.io/svc-name names the predictor Service', () => {
  const md5 = (s: string): string => `seldon-${createHash('md5').update(s).digest('hex')}`;
  const long = 'a-deployment-name-that-is-long-enough-to-matter-predictor-with-a-long-name';
  only(LONG, 'Deployment', md5(`${long}-0-classifier`));
  only(LONG, 'Service', md5(`${long}-classifier`));
  const svc = only(LONG, 'Service', 'short-svc');
  assert.equal(svc.spec['clusterIP'], 'None');
  assert.equal(LONG.address, 'http://short-svc.default.svc.cluster.local:8000/api/v1.0/predictions');
  const init = podSpecOf(only(LONG, 'Deployment', md5(`${long}-0-classifier`))).initContainers![0]!;
  assert.equal(init['image'], 'me/initializer:1');
  assert.deepEqual(init['envFrom'], [{ secretRef: { name: 's3-credentials' } }]);
});

test('pvc:// mounts the claim at /mnt/pvc with no init container; a predictor of executor built-ins gets an executor-only pod', () => {
  const shadow = only(SCALED, 'Deployment', 'scaled-copy-0-copy-model');
  const pod = podSpecOf(shadow);
  assert.equal(pod.initContainers, undefined);
  assert.deepEqual(pod.volumes?.find((v) => v['name'] === 'copy-model-pvc-source'), { name: 'copy-model-pvc-source', persistentVolumeClaim: { claimName: 'models', readOnly: true } });
  assert.equal(pod['serviceAccountName'], 'reader');
  const env = pod.containers[0]!['env'] as { name: string; value: string }[];
  assert.equal(env.find((e) => e.name === 'MLSERVER_MODEL_URI')?.value, '/mnt/pvc/iris');
  assert.equal((shadow.metadata.labels)['seldon.io/shadow'], 'true');
  const canary = podSpecOf(only(SCALED, 'Deployment', 'scaled-canary-svc-orch'));
  assert.deepEqual(canary.containers.map((c) => c['name']), ['seldon-container-engine']);
});

test('seldon.io/no-engine: no executor, and the predictor Service points at the model and its own ports', () => {
  const pod = podSpecOf(only(DIRECT, 'Deployment', 'direct-default-0-model'));
  assert.deepEqual(pod.containers.map((c) => c['name']), ['model']);
  const svc = only(DIRECT, 'Service', 'direct-default');
  assert.deepEqual(svc.spec['selector'], { 'seldon-app-svc-model': 'direct-default-model' });
  assert.deepEqual((svc.spec['ports'] as { targetPort: number }[]).map((p) => p.targetPort), [8080, 8081]);
  assert.equal(DIRECT.address, 'http://direct-default.default.svc.cluster.local:8000/v2/models/model/infer');
  assert.deepEqual((pod.containers[0]!['readinessProbe'] as { tcpSocket: unknown }).tcpSocket, { port: 'grpc' });
});

test('Istio routes split traffic by weight and mirror the shadow; the gateway, Ingress and HTTPRoute serve /seldon/<ns>/<sdep>', () => {
  const vs = only(SCALED, 'VirtualService', 'scaled');
  const [rest] = vs.spec['http'] as { route: { weight: number; destination: { host: string; subset: string } }[]; mirror: { host: string }; retries: unknown }[];
  assert.deepEqual(rest!.route.map((r) => [r.destination.subset, r.weight]), [['main', 75], ['canary', 25]]);
  assert.equal(rest!.mirror.host, 'scaled-copy.ml.svc.cluster.local');
  assert.deepEqual(rest!.retries, { attempts: 2 });
  assert.equal(SCALED.objects.filter((o) => o.kind === 'DestinationRule').length, 3);
  assert.deepEqual(SCALED.objects.filter((o) => o.kind === 'Mapping').map((o) => o.metadata.name).slice(0, 2), ['seldon-ml-scaled-main-rest', 'seldon-ml-scaled-main-grpc']);
  assert.equal(only(SCALED, 'Mapping', 'seldon-ml-scaled-main-rest').spec['timeout_ms'], 10000);
  const ingress = only(SCALED, 'Ingress', 'scaled');
  assert.deepEqual(ingress.spec, {
    ingressClassName: 'nginx',
    rules: [{ host: 'models.example.com', http: { paths: [{ path: '/seldon/ml/scaled', pathType: 'Prefix', backend: { service: { name: 'scaled-gateway', port: { name: 'http' } } } }] } }],
  });
  const route = only(SCALED, 'HTTPRoute', 'scaled');
  assert.deepEqual(route.spec['parentRefs'], [{ name: 'public', namespace: 'gateways' }]);
  const gateway = podSpecOf(only(SCALED, 'Deployment', 'scaled-gateway')).containers[0]!;
  const predictors = JSON.parse((gateway['env'] as { value: string }[])[0]!.value) as { name: string; traffic: number; shadow: boolean; http: string }[];
  assert.deepEqual(predictors.map((p) => [p.name, p.traffic, p.shadow, p.http]), [
    ['main', 75, false, 'http://scaled-main.ml.svc.cluster.local:8000'],
    ['canary', 25, false, 'http://scaled-canary.ml.svc.cluster.local:8000'],
    ['copy', 0, true, 'http://scaled-copy.ml.svc.cluster.local:8000'],
  ]);
});

test('v1, v1alpha2 and v1alpha3 render the same objects, owned by the version applied', () => {
  const text = readFileSync(join(TESTDATA, 'seed-sample.yaml'), 'utf8');
  const v1 = render(deploymentsOf(text)[0]!, DEFAULT_RENDER_CONFIG, OWNER);
  for (const version of ['v1alpha2', 'v1alpha3']) {
    const other = render(deploymentsOf(text.replace('machinelearning.seldon.io/v1', `machinelearning.seldon.io/${version}`))[0]!, DEFAULT_RENDER_CONFIG, OWNER);
    const strip = (r: Rendered): unknown => r.objects.map(({ metadata: { ownerReferences: _, ...metadata }, ...rest }) => ({ ...rest, metadata }));
    assert.deepEqual(strip(other), strip(v1));
    assert.equal(other.objects[0]?.metadata.ownerReferences?.[0]?.apiVersion, `machinelearning.seldon.io/${version}`);
  }
});

test('a prepackaged server with no image for the protocol is a RenderError that says how to add one', () => {
  const [sdep] = deploymentX(`
    graph: {name: m, implementation: TRITON_SERVER, modelUri: "gs://b/m"}
`);
  // TRITON_SERVER has a v2 image only: on the Seldon protocol there is none.
  assert.throws(() => render(sdep!, DEFAULT_RENDER_CONFIG), (err: unknown) => err instanceof RenderError && /no image for implementation TRITON_SERVER with protocol seldon: add it to predictor_servers/.test(err.message));
  const config = renderConfig({ predictorServers: { TRITON_SERVER: { protocols: { seldon: { image: 'me/xgb', defaultImageVersion: '2' } } } } });
  const pod = podSpecOf(only(render(sdep!, config), 'Deployment', 'x-p-0-m'));
  assert.equal(pod.containers[0]!['image'], 'me/xgb:2');
  assert.deepEqual(config.predictorServers['SKLEARN_SERVER'], DEFAULT_RENDER_CONFIG.predictorServers['SKLEARN_SERVER'], 'adding a server keeps the others, as Helm merges values');
});

test('render is pure: the same manifest and config give equal objects, and the manifest is not changed', () => {
  const before = JSON.stringify(FEATURES[0]);
  assert.deepEqual(render(FEATURES[0]!, EVERYTHING, OWNER), SCALED);
  assert.equal(JSON.stringify(FEATURES[0]), before);
  assert.deepEqual(parse(stringify(SCALED.objects)), JSON.parse(JSON.stringify(SCALED.objects)), 'objects are plain data');
});

test('renderConfig refuses an Ingress or HTTPRoute without the gateway they route to, and an HTTPRoute with no parent Gateway', () => {
  assert.throws(() => renderConfig({ gateway: { enabled: false }, ingress: { enabled: true } }), (err: unknown) => err instanceof RenderError && err.message.startsWith('ingress.enabled needs gateway.enabled'));
  assert.throws(() => renderConfig({ gatewayApi: { enabled: true } }), /gatewayApi\.enabled needs gatewayApi\.parentRefs/);
  const meshOnly = renderConfig({ gateway: { enabled: false }, istio: { enabled: true } });
  const kinds = render(FEATURES[0]!, meshOnly).objects.map((o) => o.kind);
  assert.ok(!kinds.includes('Ingress') && kinds.includes('VirtualService'));
  assert.ok(Object.isFrozen(meshOnly.istio));
});

test("seldon.io/no-engine on a graph of more than one node is a RenderError: there is no executor to walk it", () => {
  const [sdep] = deploymentsOf(readFileSync(join(TESTDATA, 'features.yaml'), 'utf8').split('---')[0]!.replace('annotations:\n    seldon.io/istio-retries', 'annotations:\n    seldon.io/no-engine: "true"\n    seldon.io/istio-retries'));
  assert.equal(sdep!.metadata.annotations['seldon.io/no-engine'], 'true');
  const spec = { ...sdep!, spec: { ...sdep!.spec, annotations: { 'seldon.io/no-engine': 'true' } } };
  assert.throws(() => render(spec, DEFAULT_RENDER_CONFIG), (err: unknown) => err instanceof RenderError && err.message.startsWith('predictor main: seldon.io/no-engine needs a graph of one node'));
});

test('a container name too long for a label key is hashed in the seldon-app-svc- key, and every label stays valid', () => {
  const container = 'a-container-name-of-sixty-characters-which-is-allowed-by-dns1';
  const [sdep] = deploymentX(`
    graph: {name: ${container}, type: MODEL}
    componentSpecs: [{spec: {containers: [{name: ${container}, image: me/m:1}]}}]
`);
  const rendered = render(sdep!, DEFAULT_RENDER_CONFIG);
  for (const object of rendered.objects) validate(object, 'long container');
  const key = `seldon-app-svc-${createHash('md5').update(container).digest('hex')}`;
  assert.deepEqual(only(rendered, 'Service', `seldon-${createHash('md5').update(`x-p-${container}`).digest('hex')}`).spec['selector'], { [key]: `seldon-${createHash('md5').update(`x-p-${container}`).digest('hex')}` });
});

test("the images render names by default carry this package's version", () => {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  assert.equal(IMAGE_TAG, version);
  assert.ok(DEFAULT_RENDER_CONFIG.executor.image.endsWith(`:${version}`));
});

test("Seldon's deployment annotations are read from spec.annotations first, then metadata.annotations", () => {
  const sdep = FEATURES[0]!;
  const both = { ...sdep, spec: { ...sdep.spec, annotations: { 'seldon.io/istio-retries': '5', 'seldon.io/istio-host': 'models.example.com' } } };
  const vs = only(render(both, EVERYTHING), 'VirtualService');
  assert.deepEqual(vs.spec['hosts'], ['models.example.com']);
  assert.deepEqual((vs.spec['http'] as { retries: unknown }[])[0]?.retries, { attempts: 5 }, 'spec wins over metadata (2)');
  assert.equal(only(render(both, EVERYTHING), 'Mapping', 'seldon-ml-scaled-main-rest').spec['timeout_ms'], 10000, 'metadata when spec has none');
});

test('what render adds never repeats a port number or a mount path the user already listed (server-side apply refuses duplicates)', () => {
  const [sdep] = deploymentX(`
    graph: {name: m, implementation: SKLEARN_SERVER, modelUri: "gs://b/m"}
    componentSpecs:
    - spec:
        containers:
        - name: m
          ports: [{containerPort: 9000}]
          volumeMounts: [{name: mine, mountPath: /mnt/models}]
        volumes: [{name: mine, emptyDir: {}}]
`);
  const model = podSpecOf(only(render(sdep!, DEFAULT_RENDER_CONFIG), 'Deployment', 'x-p-0-m')).containers[0]!;
  assert.deepEqual((model['ports'] as { containerPort: number }[]).map((p) => p.containerPort), [9000, 9500, 6000]);
  assert.deepEqual((model['volumeMounts'] as { mountPath: string }[]).map((m) => m.mountPath), ['/mnt/models', '/etc/podinfo']);
});

test("a node's own KServe-style initializer image gets the bare [src, dest] arguments", () => {
  const node: GraphNode = { name: 'classifier', modelUri: 's3://bucket/iris', storageInitializerImage: 'kserve/storage-initializer:v0.14.1', endpoint: { type: 'REST' }, parameters: [], children: [] };
  const init = modelMount(node, 'classifier', DEFAULT_RENDER_CONFIG)?.initContainers[0];
  assert.deepEqual(init?.['args'], ['s3://bucket/iris', '/mnt/models']);
  const ours = modelMount({ ...node, storageInitializerImage: 'registry.example.com/trantor-ml/trantor:0.2.0' }, 'classifier', DEFAULT_RENDER_CONFIG)?.initContainers[0];
  assert.deepEqual(ours?.['args'], ['storage-init', '--no-cache', 's3://bucket/iris', '/mnt/models']);
});
