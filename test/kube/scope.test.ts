/**
 * The operator takes exactly the SeldonDeployments its chart's validating webhook selects: for each
 * of the chart's scopes (every namespace, a controller id, watched namespaces, both), the webhook's
 * namespaceSelector and objectSelector from `helm template` are evaluated over namespaces and
 * SeldonDeployments labelled every way, and compared with the operator's `takes`.
 */
import { join } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAllDocuments } from 'yaml';
import { CONTROLLER_ID_LABEL, takes } from '../../src/runtime/kubernetes/index.ts';
import { findBinaries, ROOT, run, skipUnlessKube, type KubeBinaries } from './harness.ts';

const skip = skipUnlessKube();

interface Selector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

/** Kubernetes' label selector semantics (an empty selector matches everything). */
function matches(selector: Selector | undefined, labels: Record<string, string>): boolean {
  for (const [key, value] of Object.entries(selector?.matchLabels ?? {})) if (labels[key] !== value) return false;
  for (const { key, operator, values = [] } of selector?.matchExpressions ?? []) {
    const has = key in labels;
    const ok = { In: has && values.includes(labels[key]!), NotIn: !has || !values.includes(labels[key]!), Exists: has, DoesNotExist: !has }[operator];
    if (!ok) return false;
  }
  return true;
}

const SCOPES: { name: string; sets: string[]; namespaces: string[]; controllerId: string }[] = [
  { name: 'every namespace, no controller id', sets: [], namespaces: [], controllerId: '' },
  { name: 'every namespace, controller id blue', sets: ['controllerId=blue'], namespaces: [], controllerId: 'blue' },
  { name: 'watched namespaces plain and theirs', sets: ['watchNamespaces={plain,theirs}'], namespaces: ['plain', 'theirs'], controllerId: '' },
  { name: 'watched namespace theirs, controller id blue', sets: ['watchNamespaces={theirs}', 'controllerId=blue'], namespaces: ['theirs'], controllerId: 'blue' },
];

const NAMESPACE_LABELS: Record<string, Record<string, string>> = {
  plain: {},
  theirs: { [CONTROLLER_ID_LABEL]: 'blue' },
  empty: { [CONTROLLER_ID_LABEL]: '' },
};
const SDEP_LABELS: Record<string, string>[] = [{}, { [CONTROLLER_ID_LABEL]: 'blue' }, { [CONTROLLER_ID_LABEL]: 'green' }, { [CONTROLLER_ID_LABEL]: '' }, { app: 'x' }];

describe("the operator's scope is its chart webhook's", { skip }, () => {
  for (const scope of SCOPES) {
    test(scope.name, () => {
      const bin = findBinaries() as KubeBinaries;
      const result = run(bin.helm, ['template', 'trantor', join(ROOT, 'charts', 'trantor'), '--namespace', 'trantor-system', ...scope.sets.flatMap((set) => ['--set', set])]);
      assert.equal(result.code, 0, result.stderr);
      const config = parseAllDocuments(result.stdout)
        .map((doc) => doc.toJS() as { kind?: string; webhooks?: { namespaceSelector?: Selector; objectSelector?: Selector }[] } | null)
        .find((doc) => doc?.kind === 'ValidatingWebhookConfiguration');
      const webhook = config?.webhooks?.[0];
      assert.ok(webhook !== undefined, 'the chart renders its webhook');
      const disagreements: string[] = [];
      for (const [namespace, nsLabels] of Object.entries(NAMESPACE_LABELS)) {
        const namespaceLabels = { ...nsLabels, 'kubernetes.io/metadata.name': namespace };
        for (const labels of SDEP_LABELS) {
          const validated = matches(webhook.namespaceSelector, namespaceLabels) && matches(webhook.objectSelector, labels);
          const reconciled = takes(scope, { namespace, labels }, namespaceLabels);
          if (validated !== reconciled) disagreements.push(`${namespace} ${JSON.stringify(nsLabels)}, SeldonDeployment ${JSON.stringify(labels)}: webhook ${validated}, operator ${reconciled}`);
        }
      }
      assert.deepEqual(disagreements, []);
    });
  }
});
