/**
 * The two core Kubernetes kinds an event sink is declared with — a `v1` Service and an `apps/v1`
 * Deployment — checked the way the API server checks them, into the shapes of knative.ts.
 */
import { Fields } from './fields.ts';
import { dns1123, readMetadata } from './metadata.ts';
import { describe, type FieldPath, type Problems } from './problems.ts';
import { readContainer } from './seldon-deployment.ts';
import type { Deployment, Service, ServicePort } from './knative.ts';

export const SERVICE_API_VERSIONS = ['v1'] as const satisfies readonly Service['apiVersion'][];
export const DEPLOYMENT_API_VERSIONS = ['apps/v1'] as const satisfies readonly Deployment['apiVersion'][];

const PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;

/** Checks and defaults one Service document; undefined when it added problems. */
export function readService(raw: Record<string, unknown>, problems: Problems): Service | undefined {
  const before = problems.size;
  const doc = new Fields(raw, '', problems);
  const metadata = readMetadata(doc);
  const s = doc.required('spec') ? doc.mapping('spec') : undefined;
  if (s === undefined) return undefined;
  const selector = s.stringMap('selector');
  const ports = readPorts(s);
  if (problems.size > before || metadata === undefined) return undefined;
  return { apiVersion: 'v1', kind: 'Service', metadata, spec: { selector, ports } };
}

function readPorts(s: Fields): ServicePort[] {
  if (!s.required('ports')) return [];
  const list = s.list('ports');
  if (list === undefined) return [];
  if (list.length === 0) {
    s.problems.add(s.at('ports'), 'expected at least one port');
    return [];
  }
  const items = s.mappings('ports');
  const names = new Map<string, FieldPath>();
  return items.map((p) => {
    const port = p.required('port') ? p.integer('port', 1, 65535) : undefined;
    const servicePort: ServicePort = {
      port: port ?? 0,
      targetPort: readTargetPort(p) ?? port ?? 0,
      protocol: p.oneOf('protocol', PROTOCOLS) ?? 'TCP',
    };
    const name = p.string('name');
    if (name !== undefined && name !== '') {
      dns1123(p, 'name', name);
      const previous = names.get(name);
      if (previous !== undefined) p.problems.add(p.at('name'), `duplicate port name ${JSON.stringify(name)} (also at ${previous})`);
      names.set(name, p.path);
      servicePort.name = name;
    } else if (items.length > 1) {
      p.problems.add(p.at('name'), 'required when a Service has more than one port');
    }
    return servicePort;
  });
}

/** targetPort is a number, or (in Kubernetes) the name of a container port, which is not supported here. */
function readTargetPort(p: Fields): number | undefined {
  const value = p.raw['targetPort'];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') {
    p.problems.add(p.at('targetPort'), `named target ports (${describe(value)}) are not supported yet; give the container's port number`);
    return undefined;
  }
  return p.integer('targetPort', 1, 65535);
}

/** Checks and defaults one apps/v1 Deployment document; undefined when it added problems. */
export function readDeployment(raw: Record<string, unknown>, problems: Problems, baseDir?: string): Deployment | undefined {
  const before = problems.size;
  const doc = new Fields(raw, '', problems);
  const metadata = readMetadata(doc);
  const s = doc.required('spec') ? doc.mapping('spec') : undefined;
  if (s === undefined) return undefined;
  const replicas = s.integer('replicas', 0) ?? 1;

  let matchLabels: Record<string, string> = {};
  const selector = s.required('selector') ? s.mapping('selector') : undefined;
  if (selector !== undefined) {
    matchLabels = selector.stringMap('matchLabels');
    if (selector.has('matchExpressions')) {
      problems.add(selector.at('matchExpressions'), 'not supported yet; select the pods with matchLabels');
    } else if (Object.keys(matchLabels).length === 0) {
      problems.add(selector.at('matchLabels'), 'required: an empty selector would select every pod');
    }
  }

  let labels: Record<string, string> = {};
  let containers: Deployment['spec']['template']['spec']['containers'] = [];
  const template = s.required('template') ? s.mapping('template') : undefined;
  if (template !== undefined) {
    const templateMeta = template.mapping('metadata');
    labels = templateMeta?.stringMap('labels') ?? {};
    const unmatched = Object.entries(matchLabels).filter(([k, v]) => labels[k] !== v);
    if (unmatched.length > 0) {
      const path = templateMeta?.at('labels') ?? template.at('metadata');
      problems.add(path, `do not match spec.selector.matchLabels (${unmatched.map(([k, v]) => `${k}: ${v}`).join(', ')}): the Deployment would not own its own pods`);
    }
    const podSpec = template.required('spec') ? template.mapping('spec') : undefined;
    if (podSpec !== undefined && podSpec.required('containers')) {
      const list = podSpec.list('containers');
      if (list !== undefined && list.length === 0) problems.add(podSpec.at('containers'), 'expected at least one container');
      const seen = new Map<string, FieldPath>();
      containers = podSpec.mappings('containers').map((c) => readContainer(c, seen, 'this pod template'));
    }
  }
  if (problems.size > before || metadata === undefined) return undefined;
  const deployment: Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata,
    spec: { replicas, selector: { matchLabels }, template: { metadata: { labels }, spec: { containers } } },
  };
  if (baseDir !== undefined) deployment.baseDir = baseDir;
  return deployment;
}
