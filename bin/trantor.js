#!/usr/bin/env node
// The `trantor` command: runs the compiled entry point (npm run build), or the TypeScript
// sources through tsx when the project has not been built yet.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = fileURLToPath(new URL('../dist/server/entry.js', import.meta.url));
if (existsSync(compiled)) {
  await import(compiled);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/server/entry.ts', import.meta.url).href);
}
