/**
 * Kubernetes name rules that Seldon's objects inherit: deployment, namespace, predictor and
 * container names become parts of Kubernetes object names, so they must be DNS-1123 labels.
 */

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS1123_LABEL_MAX = 63;

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
