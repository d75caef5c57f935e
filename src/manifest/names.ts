/**
 * Kubernetes name rules that Seldon's objects inherit: deployment, namespace, predictor, graph
 * node and container names become parts of Kubernetes object names, so they must be DNS-1123
 * labels. Locally the same names become file paths (`<home>/manifests/<plural>/<ns>/<name>.json`),
 * and these rules are what keeps a name from climbing out of its folder: a label or subdomain has
 * no `/`, no `%`, and no `..`.
 */

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS1123_LABEL_MAX = 63;
export const DNS1123_SUBDOMAIN_MAX = 253;

/** Why `name` is not a DNS-1123 label, or undefined when it is one. */
export function dns1123LabelProblem(name: string): string | undefined {
  if (name.length > DNS1123_LABEL_MAX) {
    return `must be at most ${DNS1123_LABEL_MAX} characters, got ${name.length}`;
  }
  if (!DNS1123_LABEL.test(name)) {
    return `${JSON.stringify(name)} is not a valid name: use lower-case letters, digits and '-', starting and ending with a letter or digit (DNS-1123 label)`;
  }
  return undefined;
}

/**
 * Why `name` is not a DNS-1123 subdomain (labels joined by dots, as Kubernetes allows for Broker
 * and Trigger names), or undefined when it is one.
 */
export function dns1123SubdomainProblem(name: string): string | undefined {
  if (name.length > DNS1123_SUBDOMAIN_MAX) {
    return `must be at most ${DNS1123_SUBDOMAIN_MAX} characters, got ${name.length}`;
  }
  if (!name.split('.').every((label) => DNS1123_LABEL.test(label))) {
    return `${JSON.stringify(name)} is not a valid name: use lower-case letters, digits, '-' and '.', each dot-separated part starting and ending with a letter or digit (DNS-1123 subdomain)`;
  }
  return undefined;
}
