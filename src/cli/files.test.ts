import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliError } from './control-plane.ts';
import { textOrFile } from './files.ts';
import type { Io } from './io.ts';

const io: Io = { out: () => undefined, err: () => undefined, readStdin: () => 'from stdin', env: {} };

function refused(value: string, message: RegExp): void {
  assert.throws(() => textOrFile(value, '--data', io), (err: unknown) => err instanceof CliError && message.test(err.message));
}

test("textOrFile reads curl's @file and @-, and passes other text through", () => {
  const dir = mkdtempSync(join(tmpdir(), 'trantor-files-'));
  try {
    writeFileSync(join(dir, 'x.json'), '[[1,2]]');
    assert.equal(textOrFile(`@${join(dir, 'x.json')}`, '--data', io), '[[1,2]]');
    assert.equal(textOrFile('@-', '--data', io), 'from stdin');
    assert.equal(textOrFile('[[3]]', '--data', io), '[[3]]');
    refused(`@${join(dir, 'missing.json')}`, /^--data @.*missing\.json: no such file .*missing\.json \(looked for \//);
    refused(`@${dir}`, /^--data @.*: .* is a folder; name a file in it$/);
    refused('@', /^--data @: name a file after @, or @- for stdin$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
