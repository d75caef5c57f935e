/**
 * The path segments of the control-plane API that name objects: `/v1/<plural>/<namespace>/<name>`.
 * They are decoded (`%2F` becomes `/`) and then become file names in the manifest store, so each
 * is checked as the name it claims to be before anything else looks at it.
 */
import { TrantorError } from '../protocol/index.ts';
import { dns1123LabelProblem, dns1123SubdomainProblem } from '../manifest/index.ts';

/** Plurals whose objects Kubernetes lets have dotted (subdomain) names; the rest take labels. */
const SUBDOMAIN_NAMED = new Set(['brokers', 'triggers']);
const OBJECT_PLURALS = new Set(['deployments', 'sinks', 'triggers', 'brokers', 'services', 'kubedeployments']);

/** A percent-encoded path segment or header value, or 400 BAD_PATH when its encoding is broken. */
export function percentDecoded(text: string, where: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new TrantorError('BAD_PATH', `${where}: malformed percent-encoding in ${JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text)}`);
  }
}

/** The decoded segments of `pathname`; a malformed escape is a 400, not a crash. */
export function pathSegments(pathname: string): string[] {
  return pathname
    .split('/')
    .filter(Boolean)
    .map((segment) => percentDecoded(segment, `path ${pathname}`));
}

/** Throws 400 BAD_PATH naming the segment when a `/v1/<plural>/<ns>/<name>` namespace or name is invalid. */
export function checkObjectSegments(parts: readonly string[]): void {
  const [version, plural, namespace, name] = parts;
  if (version !== 'v1' || plural === undefined || !OBJECT_PLURALS.has(plural)) return;
  const namespaceProblem = namespace === undefined ? undefined : dns1123LabelProblem(namespace);
  if (namespaceProblem !== undefined) throw new TrantorError('BAD_PATH', `/v1/${plural}/<namespace>: namespace ${namespaceProblem}`);
  const nameProblem = name === undefined ? undefined : SUBDOMAIN_NAMED.has(plural) ? dns1123SubdomainProblem(name) : dns1123LabelProblem(name);
  if (nameProblem !== undefined) throw new TrantorError('BAD_PATH', `/v1/${plural}/${namespace}/<name>: name ${nameProblem}`);
}
