#!/usr/bin/env node
// Serves a TypeScript/JavaScript class with Seldon's wrapper contract:
//   trantor-node-microservice MLScore --service-type MODEL
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = fileURLToPath(new URL('../dist/component/node-host.js', import.meta.url));
let host;
if (existsSync(compiled)) {
  host = await import(compiled);
} else {
  const { tsImport } = await import('tsx/esm/api');
  host = await tsImport('../src/component/node-host.ts', import.meta.url);
}
process.exit(await host.main(process.argv.slice(2), process.env));
