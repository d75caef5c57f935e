/**
 * The operator's options are documented where its users read of it: docs/kubernetes.md,
 * "Operator", one row each with its kind and default as `describe` writes it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe } from '../../options/index.ts';
import { operatorOptions } from './options.ts';

test('docs/kubernetes.md lists every operator option with its kind and default', () => {
  const doc = readFileSync(new URL('../../../docs/kubernetes.md', import.meta.url), 'utf8');
  for (const [option, spec] of Object.entries(operatorOptions.table)) {
    const row = new RegExp(`^\\| \`operator\\.${option}\` \\| ${spec.kind} \\| \`${describe(spec, spec.default).replace('.', '\\.')}\` \\| \\S`, 'm');
    assert.match(doc, row, `docs/kubernetes.md should have a row for operator.${option} (${spec.kind}, default ${describe(spec, spec.default)})`);
  }
});
