import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { defineOptions, describe, type OptionSection } from '../options/index.ts';
import { compileOptions, OPTION_SECTIONS } from './options.ts';

const sections = {
  executor: defineOptions('executor', { retryWindow: { kind: 'duration', default: 2000, doc: 'retry window' } }),
  eventing: defineOptions('eventing', { maxQueued: { kind: 'count', default: 10, doc: 'queue' } }),
};

test('defaults when nothing is given', () => {
  assert.deepEqual(compileOptions(sections, {}), { executor: { retryWindow: 2000 }, eventing: { maxQueued: 10 } });
});

test('--set wins over the file, which wins over the defaults', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'trantor-options-')), 'trantor.yaml');
  writeFileSync(file, 'executor:\n  retryWindow: 5s\neventing:\n  maxQueued: 20\n');
  const options = compileOptions(sections, { file, sets: ['eventing.maxQueued=30'] });
  assert.deepEqual(options, { executor: { retryWindow: 5000 }, eventing: { maxQueued: 30 } });
  assert.ok(Object.isFrozen(options) && Object.isFrozen(options.executor));
});

test('unknown sections and options, bad --set forms and bad files are refused, named', () => {
  assert.throws(() => compileOptions(sections, { sets: ['executr.retryWindow=1s'] }), /^OptionError: executr: no such section of options; did you mean executor\?/);
  assert.throws(() => compileOptions(sections, { sets: ['executor.retryWindw=1s'] }), /executor\.retryWindw: no such option; did you mean executor\.retryWindow\?/);
  assert.throws(() => compileOptions(sections, { sets: ['retryWindow=1s'] }), /--set retryWindow=1s: expected section\.option=value/);
  const dir = mkdtempSync(join(tmpdir(), 'trantor-options-'));
  assert.throws(() => compileOptions(sections, { file: join(dir, 'missing.yaml') }), /--config .*missing\.yaml: cannot read it \(ENOENT\)/);
  writeFileSync(join(dir, 'list.yaml'), '- a\n');
  assert.throws(() => compileOptions(sections, { file: join(dir, 'list.yaml') }), /expected a mapping of sections/);
  writeFileSync(join(dir, 'nested.yaml'), 'executor:\n  retryWindow: {a: 1}\n');
  assert.throws(() => compileOptions(sections, { file: join(dir, 'nested.yaml') }), /executor\.retryWindow: expected a number or a text/);
});

test('docs/configuration.md lists every option with its default', () => {
  const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  const every: Readonly<Record<string, OptionSection>> = OPTION_SECTIONS;
  for (const [name, section] of Object.entries(every)) {
    for (const [option, spec] of Object.entries(section.table)) {
      const row = new RegExp(`^\\| \`${name}\\.${option}\` \\| ${spec.kind} \\| \`${describe(spec, spec.default).replace('.', '\\.')}\` \\|`, 'm');
      assert.match(doc, row, `docs/configuration.md should have a row for ${name}.${option} (${spec.kind}, default ${describe(spec, spec.default)})`);
    }
  }
});
