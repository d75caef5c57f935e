/**
 * The compiled program reads some files beside its modules at run time (the .proto schemas);
 * `npm run build` copies them into dist/, and the program loads them from there.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';

const ROOT = join(import.meta.dirname, '..', '..');

function protoFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return protoFiles(path);
    return entry.name.endsWith('.proto') ? [relative(join(ROOT, 'src'), path)] : [];
  });
}

test('every .proto under src/ is in dist/ at the same path, and the built protocol module encodes with it', async () => {
  const protos = protoFiles(join(ROOT, 'src'));
  assert.ok(protos.length > 0, 'no .proto files found under src/');
  const missing = protos.filter((p) => !existsSync(join(ROOT, 'dist', p)));
  assert.deepEqual(missing, [], 'run npm run build: it copies them (scripts/copy-assets.mjs)');
  const built = (await import(pathToFileURL(join(ROOT, 'dist', 'protocol', 'index.js')).href)) as {
    toProto(kind: 'SeldonMessage', message: unknown): Uint8Array;
    fromProto(kind: 'SeldonMessage', bytes: Uint8Array): unknown;
  };
  const message = { data: { names: ['a', 'b'], ndarray: [[1.5, 2]] } };
  assert.deepEqual(built.fromProto('SeldonMessage', built.toProto('SeldonMessage', message)), message);
});
