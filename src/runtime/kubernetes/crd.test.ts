import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import { parseAllDocuments, stringify } from 'yaml';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition';
import { loadManifests } from '../../manifest/index.ts';
import { CRD_NAME, render, renderConfig, SELDON_DEPLOYMENT_SCHEMA, seldonDeploymentCrd, seldonStatus } from './index.ts';
import { exampleAndSeedManifests, featuresManifest, ROOT } from './testing.ts';
const CRD_FILE = join(import.meta.dirname, 'crd.yaml');
const HEADER = '# Generated from src/runtime/kubernetes/crd.ts (UPDATE_GOLDEN=1 node --import tsx --test src/runtime/kubernetes/crd.test.ts); do not edit.\n';
const TEXT = HEADER + stringify(seldonDeploymentCrd(), { aliasDuplicateObjects: false, lineWidth: 0 });

type Schema = Record<string, unknown>;

test('crd.yaml is crd.ts written out', () => {
  if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(CRD_FILE, TEXT);
  assert.equal(readFileSync(CRD_FILE, 'utf8'), TEXT, `${relative(ROOT, CRD_FILE)} is stale: UPDATE_GOLDEN=1 rewrites it`);
});

test("the CRD fits in kubectl apply's last-applied annotation (under 256 KiB), unlike Seldon's 1.85 MB", () => {
  assert.ok(Buffer.byteLength(TEXT) < 256 * 1024, `crd.yaml is ${Buffer.byteLength(TEXT)} bytes`);
  // kubectl apply (client side) stores the object as JSON in an annotation limited to 262144 bytes.
  assert.ok(Buffer.byteLength(JSON.stringify(seldonDeploymentCrd())) < 262144);
});

test('the CRD is a valid apiextensions.k8s.io/v1 object: v1 stored, v1alpha2 and v1alpha3 served, status and scale, kubectl columns', () => {
  const crd = seldonDeploymentCrd();
  new CustomResourceDefinition(JSON.parse(JSON.stringify(crd)) as never).validate();
  const spec = crd['spec'] as { names: { shortNames: string[] }; versions: { name: string; served: boolean; storage: boolean; subresources: unknown; additionalPrinterColumns: { name: string; jsonPath: string }[] }[] };
  assert.equal((crd['metadata'] as { name: string }).name, CRD_NAME);
  assert.deepEqual(spec.names.shortNames, ['sdep']);
  assert.deepEqual(spec.versions.map((v) => [v.name, v.served, v.storage]), [['v1', true, true], ['v1alpha2', true, false], ['v1alpha3', true, false]]);
  for (const version of spec.versions) {
    assert.deepEqual(version.subresources, { status: {}, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' } });
    assert.deepEqual(version.additionalPrinterColumns.map((c) => c.name.toUpperCase()), ['STATE', 'READY', 'URL', 'AGE']);
  }
});

/** The rules of a structural schema (what the API server demands of a v1 CRD), collected as problems. */
function structuralProblems(schema: Schema, path: string, problems: string[], root = true): string[] {
  const preserved = schema['x-kubernetes-preserve-unknown-fields'] === true;
  if (typeof schema['type'] !== 'string') problems.push(`${path}: no type`);
  const properties = schema['properties'] as Record<string, Schema> | undefined;
  const additional = schema['additionalProperties'];
  if (properties !== undefined && additional !== undefined) problems.push(`${path}: properties and additionalProperties together`);
  if (additional === false) problems.push(`${path}: additionalProperties false`);
  if (schema['type'] === 'object' && properties === undefined && additional === undefined && !preserved && !(path.endsWith('.metadata') && root === false)) {
    problems.push(`${path}: an object with no properties, additionalProperties or preserve-unknown-fields`);
  }
  if (schema['type'] === 'array' && (typeof schema['items'] !== 'object' || Array.isArray(schema['items']))) problems.push(`${path}: an array with no single items schema`);
  for (const [key, inner] of Object.entries(properties ?? {})) structuralProblems(inner, `${path}.${key}`, problems, false);
  if (typeof additional === 'object' && additional !== null) structuralProblems(additional as Schema, `${path}.*`, problems, false);
  if (typeof schema['items'] === 'object' && schema['items'] !== null) structuralProblems(schema['items'] as Schema, `${path}[]`, problems, false);
  return problems;
}

test('the schema is structural, and keeps address and addresses in status (else the API server prunes them)', () => {
  assert.deepEqual(structuralProblems(SELDON_DEPLOYMENT_SCHEMA, '', []), []);
  const status = (SELDON_DEPLOYMENT_SCHEMA['properties'] as Record<string, Schema>)['status']!['properties'] as Record<string, Schema>;
  assert.deepEqual(Object.keys(status['address']!['properties'] as object), ['name', 'url', 'CACerts', 'audience']);
  assert.equal(status['addresses']!['type'], 'array');
  assert.ok('observedGeneration' in status && 'conditions' in status);
});

// Kubernetes' own keywords (x-kubernetes-*) and formats (int32) are not JSON Schema's: ajv skips them.
const validate = new Ajv({ strict: false, allErrors: true, validateFormats: false }).compile(SELDON_DEPLOYMENT_SCHEMA);

test('every example and seed SeldonDeployment is valid against the CRD schema', () => {
  let count = 0;
  for (const { name: where, text } of [...exampleAndSeedManifests(), featuresManifest()]) {
    for (const doc of parseAllDocuments(text)) {
      const object = doc.toJS() as Schema | null;
      if (object?.['kind'] !== 'SeldonDeployment') continue;
      assert.ok(validate(object), `${where}: ${JSON.stringify(validate.errors)}`);
      count++;
    }
  }
  assert.ok(count >= 15, `only ${count} SeldonDeployments`);
});

test('the CRD schema refuses what the API server should refuse before the webhook sees it', () => {
  assert.equal(validate({ apiVersion: 'machinelearning.seldon.io/v1', kind: 'SeldonDeployment', metadata: { name: 'x' }, spec: {} }), false);
  assert.ok(validate.errors?.some((e) => e.message === "must have required property 'predictors'"));
  assert.equal(validate({ metadata: { name: 'x' }, spec: { predictors: [{ name: 'p', graph: {}, traffic: '50' }] } }), false);
  assert.ok(validate.errors?.some((e) => e.instancePath === '/spec/predictors/0/traffic'));
});

/** The paths of `value` an API server would prune (not declared by `schema`): what would be silently lost. */
function prunedPaths(value: unknown, schema: Schema, path: string): string[] {
  if (schema['x-kubernetes-preserve-unknown-fields'] === true) return [];
  if (Array.isArray(value)) {
    const items = schema['items'] as Schema | undefined;
    return items === undefined ? [] : value.flatMap((v, i) => prunedPaths(v, items, `${path}[${i}]`));
  }
  if (typeof value !== 'object' || value === null) return [];
  const properties = schema['properties'] as Record<string, Schema> | undefined;
  const additional = schema['additionalProperties'] as Schema | undefined;
  // `metadata: {type: object}` is the API server's own, never pruned by the CRD.
  if (properties === undefined && additional === undefined) return [];
  return Object.entries(value).flatMap(([key, inner]) => {
    const child = properties?.[key] ?? additional;
    return child === undefined ? [`${path}.${key}`] : prunedPaths(inner, child, `${path}.${key}`);
  });
}

test('nothing of an example manifest, or of a status Trantor writes, would be pruned by the API server', () => {
  for (const { name, text } of [...exampleAndSeedManifests(), featuresManifest()]) {
    for (const doc of parseAllDocuments(text)) {
      const object = doc.toJS() as Schema | null;
      if (object?.['kind'] !== 'SeldonDeployment') continue;
      assert.deepEqual(prunedPaths(object, SELDON_DEPLOYMENT_SCHEMA, ''), [], name);
    }
  }
  const [sdep] = loadManifests(featuresManifest().text, {}).deployments;
  const rendered = render(sdep!, renderConfig({ keda: { enabled: true } }));
  const observed = {
    deployments: new Map(rendered.objects.filter((o) => o.kind === 'Deployment').map((o) => [o.metadata.name, { specReplicas: 1, replicas: 1, availableReplicas: 1 }])),
    others: new Set(rendered.objects.map((o) => `${o.kind}/${o.metadata.name}`)),
  };
  const status = seldonStatus({ namespace: 'ml', generation: 2, rendered, observed, now: '2026-12-04T10:00:00Z' });
  assert.equal(status.state, 'Available');
  assert.deepEqual(prunedPaths({ status }, SELDON_DEPLOYMENT_SCHEMA, ''), []);
  assert.ok(validate({ metadata: { name: 'x' }, spec: { predictors: [] }, status }), JSON.stringify(validate.errors));
  assert.deepEqual(prunedPaths({ status: { ...status, typo: 1 } }, SELDON_DEPLOYMENT_SCHEMA, ''), ['.status.typo'], 'the check finds what would be pruned');
});
