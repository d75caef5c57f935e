/**
 * The Helm chart (charts/trantor): `helm lint`; `helm template` goldens for the value sets users
 * set, every object checked against Kubernetes' own schemas; the configuration the chart hands the
 * operator is exactly what render() takes; the chart's CRD is the generated one; every value is
 * documented; and, against the real API server, `helm install`, `helm upgrade` and `helm uninstall`
 * (which keeps the CRD), with the operator's ServiceAccount allowed what it needs and no more.
 * Everything runs under Helm 4 and again under Helm 3 (what most users run): the same goldens, and
 * where the two differ on purpose (their JSON Schema libraries word errors differently) the test says so.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition';
import { ValidatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { DEFAULT_RENDER_CONFIG, renderConfig, type RenderConfig } from '../../src/runtime/kubernetes/index.ts';
import { findBinaries, ROOT, run, runAsync, skipUnlessKube, startKube, type KubeBinaries, type KubeServer } from './harness.ts';

const CHART = join(ROOT, 'charts', 'trantor');
const TESTDATA = join(import.meta.dirname, 'testdata');
const RELEASE = 'trantor';
const NAMESPACE = 'trantor-system';
const skip = skipUnlessKube();

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

/** The value sets the goldens cover: what Seldon users pass with --set, and Trantor's own fronts. */
const VALUE_SETS: Readonly<Record<string, readonly string[]>> = {
  default: [],
  istio: ['istio.enabled=true', 'istio.gateway=istio-system/models'],
  ambassador: ['ambassador.enabled=true'],
  singleNamespace: ['singleNamespace=true'],
  watchNamespaces: ['watchNamespaces={team-a,team-b}', 'controllerId=team'],
  certManager: ['certManager.enabled=true'],
  'crd-create-false': ['crd.create=false'],
  gatewayApi: ['gatewayApi.enabled=true', 'gatewayApi.parentRefs[0].name=public', 'gatewayApi.parentRefs[0].namespace=gateways', 'gatewayApi.hostnames={models.example.com}'],
};

interface Validator {
  validate(): void;
}
type ModelClass = new (data: never) => Validator;

/** Kubernetes' own schemas, by apiVersion and kind. */
const MODELS: Readonly<Record<string, ModelClass>> = {
  'v1/ServiceAccount': ServiceAccount,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration': ValidatingWebhookConfiguration,
  'apiextensions.k8s.io/v1/CustomResourceDefinition': CustomResourceDefinition,
};

/** cert-manager publishes no schema package here: its two objects are checked for what the chart relies on. */
function validateCertManager(object: Obj): void {
  const spec = object['spec'] as Record<string, unknown>;
  if (object.kind === 'Issuer') assert.deepEqual(spec, { selfSigned: {} });
  else {
    assert.equal(object.kind, 'Certificate');
    assert.equal(typeof spec['secretName'], 'string');
    assert.ok(Array.isArray(spec['dnsNames']) && spec['dnsNames'].length > 0);
  }
}

function validate(object: Obj, where: string): void {
  assert.ok(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(object.metadata.name) && object.metadata.name.length <= 63, `${where}: name ${object.metadata.name}`);
  if (object.apiVersion === 'cert-manager.io/v1') return validateCertManager(object);
  const Model = MODELS[`${object.apiVersion}/${object.kind}`];
  assert.ok(Model !== undefined, `${where}: no schema for ${object.apiVersion} ${object.kind}`);
  try {
    new Model(structuredClone(object) as never).validate();
  } catch (err) {
    assert.fail(`${where}: ${object.kind} ${object.metadata.name} is not valid: ${String(err)}`);
  }
}

/** A multi-document YAML stream's documents, as text, in a fixed order. */
const documents = (stream: string): string[] => stream.split(/^---\n/m).filter((d) => d.trim() !== '').sort();

/** `--set` pairs as helm's arguments. */
const setArgs = (sets: readonly string[]): string[] => sets.flatMap((s) => ['--set', s]);

/** The two Helm majors the chart is proven under, each from the tier's binaries (scripts/kube/tools.sh). */
const HELMS = [
  { major: 4, of: (bin: KubeBinaries): string => bin.helm },
  { major: 3, of: (bin: KubeBinaries): string => bin.helm3 },
] as const;

for (const { major, of } of HELMS) describe(`the Helm chart, Helm ${major}`, { skip, timeout: 600_000 }, () => {
  let helmBin: string;
  const rendered = new Map<string, Obj[]>();

  before(() => {
    helmBin = of(findBinaries() as KubeBinaries);
  });

  function template(sets: readonly string[]): { code: number; stdout: string; stderr: string } {
    return run(helmBin, ['template', RELEASE, CHART, '--namespace', NAMESPACE, ...setArgs(sets)]);
  }

  /** The objects of one value set, rendered once. */
  function objects(set: string): Obj[] {
    let found = rendered.get(set);
    if (found === undefined) {
      const result = template(VALUE_SETS[set]!);
      assert.equal(result.code, 0, result.stderr);
      found = parseAllDocuments(result.stdout).map((d) => d.toJS() as Obj | null).filter((o): o is Obj => o !== null);
      rendered.set(set, found);
    }
    return found;
  }

  const find = (set: string, kind: string, name: string): Obj | undefined => objects(set).find((o) => o.kind === kind && o.metadata.name === name);
  const get = (set: string, kind: string, name: string): Obj => {
    const found = find(set, kind, name);
    assert.ok(found, `${set}: no ${kind} ${name} among ${objects(set).map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
    return found;
  };
  /** The configuration the operator is given (the ConfigMap's render.json), as the operator compiles it. */
  const operatorConfig = (set: string): RenderConfig => {
    const data = get(set, 'ConfigMap', `${RELEASE}-config`)['data'] as Record<string, string>;
    return renderConfig(JSON.parse(data['render.json']!) as Parameters<typeof renderConfig>[0]);
  };

  test('helm lint passes, strictly, for every value set', () => {
    for (const [name, sets] of Object.entries(VALUE_SETS)) {
      const lint = run(helmBin, ['lint', '--strict', CHART, ...setArgs(sets)]);
      assert.equal(lint.code, 0, `${name}: ${lint.stdout}${lint.stderr}`);
    }
  });

  for (const name of Object.keys(VALUE_SETS)) {
    test(`helm template with ${name} values matches testdata/chart-${name}.yaml, every object valid`, () => {
      const result = template(VALUE_SETS[name]!);
      assert.equal(result.code, 0, result.stderr);
      // One golden for both majors: Helm 4 (run first) rewrites it, Helm 3 must render it byte for byte.
      const file = join(TESTDATA, `chart-${name}.yaml`);
      if (process.env['UPDATE_GOLDEN'] === '1' && major === 4) writeFileSync(file, result.stdout);
      const golden = readFileSync(file, 'utf8');
      if (major === 3 && result.stdout !== golden) {
        // Where the majors differ on purpose: Helm 3's install order does not know
        // ValidatingWebhookConfiguration, so it sorts it with the kinds it does not know (after
        // cert-manager's Certificate and Issuer); Helm 4 puts it before them. Same objects, same bytes.
        assert.deepEqual(documents(result.stdout), documents(golden), `Helm 3 renders other objects than ${relative(ROOT, file)}`);
      } else assert.equal(result.stdout, golden, `${relative(ROOT, file)} is stale: UPDATE_GOLDEN=1 rewrites it; read the diff`);
      for (const object of objects(name)) validate(object, name);
      // The chart's own objects live in the release namespace; cluster-scoped ones have none.
      for (const object of objects(name)) {
        const clusterScoped = ['ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'ValidatingWebhookConfiguration'].includes(object.kind);
        if (clusterScoped) assert.equal(object.metadata.namespace, undefined, `${object.kind} ${object.metadata.name}`);
        else if (object.kind !== 'Role' && object.kind !== 'RoleBinding') assert.equal(object.metadata.namespace, NAMESPACE, `${object.kind} ${object.metadata.name}`);
      }
    });
  }

  test('the chart ships the generated CRD (scripts/sync-chart-crd.sh), kept on uninstall, and none with crd.create=false', () => {
    const generated = readFileSync(join(ROOT, 'src', 'runtime', 'kubernetes', 'crd.yaml'), 'utf8');
    assert.equal(readFileSync(join(CHART, 'files', 'crd.yaml'), 'utf8'), generated, 'charts/trantor/files/crd.yaml is stale: run `bash scripts/sync-chart-crd.sh`');
    const crd = get('default', 'CustomResourceDefinition', 'seldondeployments.machinelearning.seldon.io');
    const source = parse(generated) as Obj;
    assert.deepEqual(crd['spec'], source['spec']);
    assert.equal(crd.metadata.annotations?.['helm.sh/resource-policy'], 'keep');
    assert.equal(objects('crd-create-false').filter((o) => o.kind === 'CustomResourceDefinition').length, 0);
  });

  test("the operator's configuration is render()'s: the defaults are DEFAULT_RENDER_CONFIG, and Seldon's value names reach it", () => {
    assert.deepEqual(operatorConfig('default'), DEFAULT_RENDER_CONFIG);
    assert.deepEqual(operatorConfig('istio').istio, { enabled: true, gateway: 'istio-system/models', tlsMode: '' });
    assert.equal(operatorConfig('ambassador').ambassador.enabled, true);
    assert.deepEqual(operatorConfig('gatewayApi').gatewayApi, { enabled: true, parentRefs: [{ name: 'public', namespace: 'gateways' }], hostnames: ['models.example.com'] });

    const sets = [
      'executor.image.registry=registry.example.com', 'executor.image.tag=9.9.9', 'executor.port=8100', 'executor.user=1000',
      'executor.resources.cpuLimit=2', 'executor.requestLogger.defaultEndpoint=http://broker.logs', 'executor.fullHealthChecks=true',
      'predictiveUnit.httpPort=9100', 'predictiveUnit.defaultEnvSecretRefName=s3-creds', 'storageInitializer.image=example/init:1',
      'storageInitializer.memoryLimit=2Gi', 'defaultUserID=1001', 'keda.enabled=true',
      'predictor_servers.TENSORFLOW_SERVER.protocols.seldon.image=example/tf', 'predictor_servers.TENSORFLOW_SERVER.protocols.seldon.defaultImageVersion=1.0',
      'ingress.enabled=true', 'ingress.className=nginx', 'ingress.host=models.example.com',
    ];
    const result = template(sets);
    assert.equal(result.code, 0, result.stderr);
    const map = parseAllDocuments(result.stdout).map((d) => d.toJS() as Obj).find((o) => o.kind === 'ConfigMap')!;
    const config = renderConfig(JSON.parse((map['data'] as Record<string, string>)['render.json']!) as Parameters<typeof renderConfig>[0]);
    assert.equal(config.executor.image, 'registry.example.com/trantor-ml/trantor:9.9.9');
    assert.equal(config.executor.port, 8100);
    assert.equal(config.executor.user, 1000);
    assert.deepEqual(config.executor.resources, { requests: { cpu: '500m', memory: '512Mi' }, limits: { cpu: '2', memory: '512Mi' } });
    assert.equal(config.executor.requestLoggerDefaultEndpoint, 'http://broker.logs');
    assert.equal(config.executor.fullHealthChecks, true);
    assert.equal(config.predictiveUnit.httpPort, 9100);
    assert.equal(config.predictiveUnit.defaultEnvSecretRefName, 's3-creds');
    assert.equal(config.storageInitializer.image, 'example/init:1');
    assert.equal(config.storageInitializer.resources.limits['memory'], '2Gi');
    assert.equal(config.defaultUserId, 1001);
    assert.equal(config.keda.enabled, true);
    // An implementation added keeps the default ones, as Helm merges maps.
    assert.deepEqual(Object.keys(config.predictorServers).sort(), ['MLFLOW_SERVER', 'SKLEARN_SERVER', 'TENSORFLOW_SERVER', 'TRITON_SERVER', 'XGBOOST_SERVER']);
    assert.deepEqual(config.ingress, { enabled: true, className: 'nginx', host: 'models.example.com' });
  });

  test('settings that cannot work together fail the install with the reason, as the operator would', () => {
    const cases: [string[], RegExp][] = [
      [['gatewayApi.enabled=true'], /gatewayApi\.enabled needs gatewayApi\.parentRefs/],
      [['ingress.enabled=true', 'gateway.enabled=false'], /ingress\.enabled needs gateway\.enabled/],
      [['singleNamespace=true', 'watchNamespaces={a}'], /singleNamespace or watchNamespaces, not both/],
    ];
    for (const [sets, message] of cases) {
      const result = template(sets);
      assert.notEqual(result.code, 0, sets.join(' '));
      assert.match(result.stderr, message);
      // The operator refuses the same front-door settings.
      if (sets[0]!.startsWith('gatewayApi') || sets[0]!.startsWith('ingress')) {
        const front = sets[0]!.split('.')[0] as 'gatewayApi' | 'ingress';
        assert.throws(() => renderConfig(front === 'ingress' ? { ingress: { enabled: true }, gateway: { enabled: false } } : { gatewayApi: { enabled: true } }), message);
      }
    }
  });

  test('values.schema.json refuses a mistyped value before anything renders, naming it', () => {
    // Where the majors differ on purpose: Helm 4's JSON Schema library names a value by its pointer
    // (/webhook/certs), Helm 3's by its dotted path (webhook.certs), each in its own words.
    const cases: [string, { 4: RegExp; 3: RegExp }][] = [
      ['webhook.certs=vault', { 4: /\/webhook\/certs.*one of 'self', 'certManager'/, 3: /webhook\.certs.*one of the following: "self", "certManager"/ }],
      ['webhook.timeoutSeconds=60', { 4: /\/webhook\/timeoutSeconds.*maximum/, 3: /webhook\.timeoutSeconds: Must be less than or equal to 30/ }],
      ['executor.port=abc', { 4: /\/executor\/port.*want integer/, 3: /executor\.port: Invalid type\. Expected: integer/ }],
      ['watchNamespaces={Team_A}', { 4: /\/watchNamespaces\/0.*does not match pattern/, 3: /watchNamespaces\.0: Does not match pattern/ }],
      ['predictor_servers.TENSORFLOW_SERVER.protocols.seldon.image=example/tf', {
        4: /\/predictor_servers\/TENSORFLOW_SERVER\/protocols\/seldon.*defaultImageVersion/,
        3: /predictor_servers\.TENSORFLOW_SERVER\.protocols\.seldon: defaultImageVersion is required/,
      }],
    ];
    for (const [set, message] of cases) {
      const result = template([set]);
      assert.notEqual(result.code, 0, set);
      assert.match(result.stderr, message[major], set);
    }
  });

  test('RBAC: cluster-wide by default; Roles in the watched namespaces only with singleNamespace or watchNamespaces', () => {
    assert.ok(find('default', 'ClusterRole', `${RELEASE}-manager`));
    assert.ok(find('default', 'ClusterRoleBinding', `${RELEASE}-manager`));
    for (const [set, namespaces] of [['singleNamespace', [NAMESPACE]], ['watchNamespaces', ['team-a', 'team-b']]] as const) {
      assert.equal(find(set, 'ClusterRole', `${RELEASE}-manager`), undefined, set);
      const roles = objects(set).filter((o) => o.kind === 'Role' && o.metadata.name === `${RELEASE}-manager`);
      assert.deepEqual(roles.map((r) => r.metadata.namespace), namespaces, set);
      const bindings = objects(set).filter((o) => o.kind === 'RoleBinding' && o.metadata.name === `${RELEASE}-manager`);
      assert.deepEqual(bindings.map((r) => r.metadata.namespace), namespaces, set);
      const args = ((get(set, 'Deployment', `${RELEASE}-operator`)['spec'] as { template: { spec: { containers: { args: string[] }[] } } }).template.spec.containers[0]!.args);
      assert.ok(args.includes(`--namespaces=${namespaces.join(',')}`), args.join(' '));
    }
    // Istio's, Ambassador's, KEDA's and the fronts' kinds are only granted when they are rendered.
    const granted = (set: string): string[] => ((get(set, 'ClusterRole', `${RELEASE}-manager`)['rules'] as { resources: string[] }[]).flatMap((r) => r.resources));
    assert.ok(!granted('default').includes('virtualservices') && granted('istio').includes('virtualservices'));
    assert.ok(!granted('default').includes('mappings') && granted('ambassador').includes('mappings'));
    assert.ok(!granted('default').includes('httproutes') && granted('gatewayApi').includes('httproutes'));
  });

  test('the Knative addressable ClusterRole: labelled for aggregation, read-only on SeldonDeployments', () => {
    const role = get('default', 'ClusterRole', `${RELEASE}-addressable-resolver`);
    assert.equal(role.metadata.labels?.['duck.knative.dev/addressable'], 'true');
    assert.deepEqual(role['rules'], [{ apiGroups: ['machinelearning.seldon.io'], resources: ['seldondeployments', 'seldondeployments/status'], verbs: ['get', 'list', 'watch'] }]);
    const off = template(['knative.addressableRole=false']);
    assert.doesNotMatch(off.stdout, /duck\.knative\.dev\/addressable/);
  });

  test('the webhook: no caBundle (the operator or cert-manager fills it), a short timeout, a narrow selector', () => {
    interface Hook {
      clientConfig: { caBundle?: string; service: { name: string; path: string } };
      timeoutSeconds: number;
      failurePolicy: string;
      namespaceSelector: unknown;
      objectSelector: unknown;
      rules: { apiVersions: string[] }[];
    }
    const hook = (set: string): Hook => (get(set, 'ValidatingWebhookConfiguration', RELEASE)['webhooks'] as Hook[])[0]!;
    const base = hook('default');
    assert.equal(base.clientConfig.caBundle, undefined);
    assert.equal(base.clientConfig.service.name, `${RELEASE}-webhook`);
    assert.equal(base.clientConfig.service.path, '/validate-machinelearning-seldon-io-v1-seldondeployment');
    assert.ok(base.timeoutSeconds <= 10);
    assert.deepEqual(base.rules[0]!.apiVersions, ['v1', 'v1alpha2', 'v1alpha3']);
    assert.deepEqual(base.namespaceSelector, { matchExpressions: [{ key: 'seldon.io/controller-id', operator: 'DoesNotExist' }] });
    assert.deepEqual(hook('watchNamespaces').namespaceSelector, { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['team-a', 'team-b'] }] });
    assert.deepEqual(hook('watchNamespaces').objectSelector, { matchLabels: { 'seldon.io/controller-id': 'team' } });
    // self: the operator may patch this one configuration and keep its Secret; cert-manager: none of that.
    assert.deepEqual((get('default', 'ClusterRole', `${RELEASE}-webhook-ca`)['rules'] as { resourceNames?: string[] }[])[0]!.resourceNames, [RELEASE]);
    assert.equal(find('certManager', 'ClusterRole', `${RELEASE}-webhook-ca`), undefined);
    assert.equal(get('certManager', 'ValidatingWebhookConfiguration', RELEASE).metadata.annotations?.['cert-manager.io/inject-ca-from'], `${NAMESPACE}/${RELEASE}-webhook`);
    const certificate = get('certManager', 'Certificate', `${RELEASE}-webhook`)['spec'] as { secretName: string; dnsNames: string[] };
    assert.ok(certificate.dnsNames.includes(`${RELEASE}-webhook.${NAMESPACE}.svc`));
    const pod = (get('certManager', 'Deployment', `${RELEASE}-operator`)['spec'] as { template: { spec: { volumes: { secret?: { secretName: string } }[] } } }).template.spec;
    assert.ok(pod.volumes.some((v) => v.secret?.secretName === certificate.secretName));
    assert.equal(find('default', 'Certificate', `${RELEASE}-webhook`), undefined);
    // The chart itself makes no certificate, so no render (no upgrade) can rotate one.
    for (const set of Object.keys(VALUE_SETS)) assert.equal(objects(set).filter((o) => o.kind === 'Secret').length, 0, set);
    // The Service reaches the operator's webhook port.
    const service = get('default', 'Service', `${RELEASE}-webhook`)['spec'] as { ports: { targetPort: string }[]; selector: Record<string, string> };
    const operatorPod = (get('default', 'Deployment', `${RELEASE}-operator`)['spec'] as { template: { metadata: { labels: Record<string, string> }; spec: { containers: { ports: { name: string; containerPort: number }[] }[] } } }).template;
    assert.deepEqual(operatorPod.spec.containers[0]!.ports.find((p) => p.name === service.ports[0]!.targetPort)?.containerPort, 4443);
    for (const [key, value] of Object.entries(service.selector)) assert.equal(operatorPod.metadata.labels[key], value, key);
    // Two operator replicas by default, and a drain leaves one to answer the webhook.
    const budget = get('default', 'PodDisruptionBudget', `${RELEASE}-operator`)['spec'] as { minAvailable: number; selector: { matchLabels: Record<string, string> } };
    assert.equal(budget.minAvailable, 1);
    assert.deepEqual(budget.selector.matchLabels, service.selector);
    assert.doesNotMatch(template(['manager.replicas=1']).stdout, /kind: PodDisruptionBudget/);
  });

  test('every value in values.yaml is commented there, typed in values.schema.json and documented in docs/helm.md', () => {
    const text = readFileSync(join(CHART, 'values.yaml'), 'utf8');
    const docs = readFileSync(join(ROOT, 'docs', 'helm.md'), 'utf8');
    const lines = text.split('\n');
    const missing: string[] = [];
    const uncommented: string[] = [];
    const keys = lines.flatMap((line, i) => {
      const match = /^( *)([A-Za-z_][\w-]*):/.exec(line);
      return match ? [{ depth: match[1]!.length / 2, name: match[2]!, line: i }] : [];
    });
    const path: string[] = [];
    const typed: string[] = [];
    for (const [k, { depth, name, line }] of keys.entries()) {
      path.splice(depth, path.length, name);
      const key = path.join('.');
      if (depth === 0 && !lines[line - 1]!.startsWith('#')) uncommented.push(key);
      // A value is a leaf, or a map documented whole (predictor_servers' implementations, a securityContext).
      const whole = ['predictor_servers', 'manager.containerSecurityContext'];
      if (whole.some((w) => key.startsWith(`${w}.`))) continue;
      typed.push(key);
      const leaf = (keys[k + 1]?.depth ?? 0) <= depth || whole.includes(key);
      if (leaf && !docs.includes(`\`${key}\``)) missing.push(key);
    }
    assert.deepEqual(missing, [], 'values missing from docs/helm.md');
    // values.schema.json types every value.
    type Node = { properties?: Record<string, Node>; additionalProperties?: Node | boolean };
    const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8')) as Node;
    const untyped = typed.filter((key) => {
      let node: Node | undefined = schema;
      for (const name of key.split('.')) node = node?.properties?.[name];
      return node === undefined;
    });
    assert.deepEqual(untyped, [], 'values missing from values.schema.json');
    assert.deepEqual(uncommented, [], 'top-level values without a comment above them in values.yaml');
  });
});

for (const { major, of } of HELMS) describe(`the Helm chart on a real API server, Helm ${major}`, { skip, timeout: 600_000 }, () => {
  let kube: KubeServer;
  let bin: KubeBinaries;
  let helmBin: string;

  before(async () => {
    bin = findBinaries() as KubeBinaries;
    helmBin = of(bin);
    kube = await startKube();
  });
  after(async () => {
    await kube?.stop();
  });

  const helm = (args: string[]): string => {
    const result = run(helmBin, args, kube.kubeconfig);
    assert.equal(result.code, 0, `helm ${args.join(' ')}: ${result.stdout}${result.stderr}\n${kube.output().slice(-2000)}`);
    return result.stdout;
  };
  const kubectl = (args: string[], input?: string): { code: number; stdout: string; stderr: string } => run(bin.kubectl, args, kube.kubeconfig, input);
  const exists = (kind: string, name: string, namespace?: string): boolean => kubectl(['get', kind, name, ...(namespace ? ['-n', namespace] : [])]).code === 0;
  /**
   * What a ServiceAccount may do, asked of the API server's own authorizer (a SubjectAccessReview),
   * `resource` written `plural.group` or `plural.group/subresource` (core: `plural` alone).
   */
  const can = (account: string, verb: string, resource: string, namespace?: string, name?: string): boolean => {
    const [kindGroup, subresource] = resource.split('/');
    const dot = kindGroup!.indexOf('.');
    const [plural, group] = dot < 0 ? [kindGroup!, ''] : [kindGroup!.slice(0, dot), kindGroup!.slice(dot + 1)];
    const [saNamespace] = account.split(':');
    const review = {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user: `system:serviceaccount:${account}`,
        groups: ['system:serviceaccounts', `system:serviceaccounts:${saNamespace}`, 'system:authenticated'],
        resourceAttributes: { verb, group, resource: plural, subresource, namespace, name },
      },
    };
    const result = run(bin.kubectl, ['create', '-o', 'json', '-f', '-'], kube.kubeconfig, JSON.stringify(review));
    assert.equal(result.code, 0, result.stderr);
    return (JSON.parse(result.stdout) as { status: { allowed?: boolean } }).status.allowed === true;
  };

  test('helm install creates every object, the CRD is established, and the operator is allowed what it does', () => {
    helm(['install', RELEASE, CHART, '--namespace', NAMESPACE, '--create-namespace']);
    assert.equal(kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/seldondeployments.machinelearning.seldon.io']).code, 0);
    for (const [kind, name, namespace] of [
      ['deployment', `${RELEASE}-operator`, NAMESPACE], ['serviceaccount', RELEASE, NAMESPACE], ['configmap', `${RELEASE}-config`, NAMESPACE],
      ['service', `${RELEASE}-webhook`, NAMESPACE], ['validatingwebhookconfiguration', RELEASE], ['clusterrole', `${RELEASE}-manager`],
      ['clusterrole', `${RELEASE}-addressable-resolver`], ['role', `${RELEASE}-operator`, NAMESPACE],
    ] as const) {
      assert.ok(exists(kind, name, namespace), `${kind} ${name} was not created`);
    }
    const operator = `${NAMESPACE}:${RELEASE}`;
    assert.ok(can(operator, 'patch', 'seldondeployments.machinelearning.seldon.io', 'anywhere'));
    assert.ok(can(operator, 'update', 'seldondeployments.machinelearning.seldon.io/status', 'anywhere'));
    assert.ok(can(operator, 'create', 'deployments.apps', 'anywhere'));
    assert.ok(can(operator, 'delete', 'services', 'anywhere'));
    assert.ok(can(operator, 'create', 'events', 'anywhere'));
    assert.ok(can(operator, 'update', 'leases.coordination.k8s.io', NAMESPACE));
    assert.ok(can(operator, 'create', 'secrets', NAMESPACE));
    assert.ok(can(operator, 'patch', 'validatingwebhookconfigurations.admissionregistration.k8s.io', undefined, RELEASE));
    assert.ok(!can(operator, 'patch', 'validatingwebhookconfigurations.admissionregistration.k8s.io', undefined, 'someone-elses'), 'only its own webhook configuration');
    assert.ok(!can(operator, 'get', 'secrets', 'anywhere'), 'no Secrets outside its namespace');
    assert.ok(can(operator, 'update', 'secrets', NAMESPACE, `${RELEASE}-webhook-cert`));
    assert.ok(!can(operator, 'get', 'secrets', NAMESPACE, 'another-secret'), 'only its own Secret, even in its namespace');
    assert.ok(!can(operator, 'list', 'validatingwebhookconfigurations.admissionregistration.k8s.io'), 'no listing of webhook configurations');
    assert.ok(!can(operator, 'create', 'virtualservices.networking.istio.io', 'anywhere'), 'no Istio objects unless istio.enabled');
  });

  test("helm upgrade with changed values succeeds, gives the operator them, and keeps the operator's certificate and caBundle", () => {
    // What the operator does with webhook.certs=self, done here by hand: its Secret, and the CA in the caBundle.
    const caBundle = Buffer.from('-----BEGIN CERTIFICATE-----\nnot-checked-here\n-----END CERTIFICATE-----\n').toString('base64');
    const secret = kubectl(['create', 'secret', 'generic', `${RELEASE}-webhook-cert`, '-n', NAMESPACE, '--from-literal=ca.crt=kept', '--field-manager=trantor-operator']);
    assert.equal(secret.code, 0, secret.stderr);
    const patch = JSON.stringify([{ op: 'add', path: '/webhooks/0/clientConfig/caBundle', value: caBundle }]);
    const patched = kubectl(['patch', 'validatingwebhookconfiguration', RELEASE, '--type=json', `-p=${patch}`, '--field-manager=trantor-operator']);
    assert.equal(patched.code, 0, patched.stderr);

    helm(['upgrade', RELEASE, CHART, '--namespace', NAMESPACE, '--set', 'istio.enabled=true', '--set', 'manager.replicas=1']);
    const hook = JSON.parse(kubectl(['get', 'validatingwebhookconfiguration', RELEASE, '-o', 'json']).stdout) as { webhooks: { clientConfig: { caBundle?: string } }[] };
    assert.equal(hook.webhooks[0]!.clientConfig.caBundle, caBundle, 'helm upgrade reset the caBundle the operator wrote');
    assert.ok(exists('secret', `${RELEASE}-webhook-cert`, NAMESPACE), "helm upgrade removed the operator's certificate");
    const map = JSON.parse(kubectl(['get', 'configmap', `${RELEASE}-config`, '-n', NAMESPACE, '-o', 'json']).stdout) as { data: Record<string, string> };
    assert.equal((JSON.parse(map.data['render.json']!) as RenderConfig).istio.enabled, true);
    assert.ok(can(`${NAMESPACE}:${RELEASE}`, 'create', 'virtualservices.networking.istio.io', 'anywhere'));
    const status = JSON.parse(helm(['status', RELEASE, '--namespace', NAMESPACE, '-o', 'json'])) as { version: number; info: { status: string } };
    assert.deepEqual([status.version, status.info.status], [2, 'deployed']);
  });

  test('a second, single-namespace release beside it (crd.create=false) is held to its namespace', () => {
    assert.equal(kubectl(['create', 'namespace', 'team-a']).code, 0);
    helm(['install', 'team', CHART, '--namespace', 'team-a', '--set', 'singleNamespace=true', '--set', 'crd.create=false', '--set', 'controllerId=team-a']);
    const team = 'team-a:team-trantor';
    assert.ok(can(team, 'patch', 'seldondeployments.machinelearning.seldon.io', 'team-a'));
    assert.ok(!can(team, 'patch', 'seldondeployments.machinelearning.seldon.io', 'default'));
    assert.ok(!can(team, 'list', 'namespaces'));
  });

  test('helm uninstall removes the operator but keeps the CRD, so SeldonDeployments survive', () => {
    helm(['uninstall', 'team', '--namespace', 'team-a']);
    helm(['uninstall', RELEASE, '--namespace', NAMESPACE]);
    assert.ok(!exists('validatingwebhookconfiguration', RELEASE));
    assert.ok(!exists('clusterrole', `${RELEASE}-manager`));
    assert.ok(exists('crd', 'seldondeployments.machinelearning.seldon.io'), 'the CRD was deleted with the release');
  });

  test("the chart's webhook receives SeldonDeployment writes of every version, and only those of its namespaces and controller id", async () => {
    const hook = await startRefusingWebhook();
    try {
      const url = `https://127.0.0.1:${hook.port}/validate-machinelearning-seldon-io-v1-seldondeployment`;
      helm(['install', 'hooked', CHART, '--namespace', 'hook-system', '--create-namespace', '--set', 'crd.create=false', '--set', `webhook.url=${url}`]);
      // What the operator does with webhook.certs=self: the CA into the caBundle.
      const patch = JSON.stringify([{ op: 'add', path: '/webhooks/0/clientConfig/caBundle', value: Buffer.from(hook.ca).toString('base64') }]);
      const patched = kubectl(['patch', 'validatingwebhookconfiguration', 'hooked-trantor', '--type=json', `-p=${patch}`]);
      assert.equal(patched.code, 0, patched.stderr);
      for (const namespace of ['models', 'elsewhere']) assert.equal(kubectl(['create', 'namespace', namespace]).code, 0);
      assert.equal(kubectl(['label', 'namespace', 'elsewhere', 'seldon.io/controller-id=another']).code, 0);

      // Not run(): its spawnSync would block this process, and so the webhook the API server is calling.
      const apply = (version: string, name: string, namespace: string, labels: Record<string, string> = {}): Promise<{ code: number; stderr: string }> =>
        runAsync(bin.kubectl, ['apply', '--server-side', '--field-manager=trantor-test', '-f', '-'], kube.kubeconfig, sdep(version, name, namespace, labels));
      for (const version of ['v1', 'v1alpha2', 'v1alpha3']) {
        const refused = await apply(version, `refused-${version}`, 'models');
        assert.notEqual(refused.code, 0, `${version} was not sent to the webhook`);
        assert.match(refused.stderr, new RegExp(`refused by the test webhook: refused-${version}`));
      }
      assert.deepEqual(hook.seen.map((r) => [r.version, r.operation, r.name]), [['v1', 'CREATE', 'refused-v1'], ['v1alpha2', 'CREATE', 'refused-v1alpha2'], ['v1alpha3', 'CREATE', 'refused-v1alpha3']]);
      // Another operator's namespace and another operator's SeldonDeployments are not this webhook's to judge.
      assert.equal((await apply('v1', 'theirs', 'elsewhere')).code, 0);
      assert.equal((await apply('v1', 'labelled', 'models', { 'seldon.io/controller-id': 'another' })).code, 0);
      assert.equal(hook.seen.length, 3);
      helm(['uninstall', 'hooked', '--namespace', 'hook-system']);
    } finally {
      await hook.close();
    }
  });
});

/** A minimal SeldonDeployment of one apiVersion, as JSON. */
function sdep(version: string, name: string, namespace: string, labels: Record<string, string>): string {
  return JSON.stringify({
    apiVersion: `machinelearning.seldon.io/${version}`,
    kind: 'SeldonDeployment',
    metadata: { name, namespace, labels },
    spec: { predictors: [{ name: 'default', graph: { name: 'classifier', implementation: 'SKLEARN_SERVER', modelUri: 'gs://models/iris' } }] },
  });
}

interface SeenReview {
  version: string;
  operation: string;
  name: string;
}

/**
 * An HTTPS admission webhook on loopback that refuses everything it is sent, naming the object, and
 * records what it saw; its certificate (for IP 127.0.0.1) is its own CA.
 */
async function startRefusingWebhook(): Promise<{ port: number; ca: string; seen: SeenReview[]; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'trantor-hook-'));
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
    '-keyout', join(dir, 'tls.key'), '-out', join(dir, 'tls.crt'),
  ], { stdio: 'ignore' });
  const ca = readFileSync(join(dir, 'tls.crt'), 'utf8');
  const key = readFileSync(join(dir, 'tls.key'), 'utf8');
  rmSync(dir, { recursive: true, force: true });
  const seen: SeenReview[] = [];
  const server: Server = createServer({ cert: ca, key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const review = JSON.parse(Buffer.concat(chunks).toString()) as { request: { uid: string; operation: string; kind: { version: string }; name: string } };
      seen.push({ version: review.request.kind.version, operation: review.request.operation, name: review.request.name });
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        response: { uid: review.request.uid, allowed: false, status: { code: 422, message: `refused by the test webhook: ${review.request.name}` } },
      }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    ca,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
