// The build's second step: files the compiled program reads at run time beside its modules
// (the .proto schemas; the dashboard's page and style sheets), copied from src/ to dist/ at the same
// relative paths.
import { cpSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const ASSET = /\.(proto|html|css|svg)$/;

function copyAssets(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) copyAssets(path);
    else if (ASSET.test(entry.name)) cpSync(path, join('dist', relative('src', path)));
  }
}

copyAssets('src');
