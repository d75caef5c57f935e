/** Where the dashboard's compiled page is: `dist/web` of this install, whether running compiled or from the sources. */
import { fileURLToPath } from 'node:url';

export function dashboardWebRoot(): string {
  // This file is src/server/dashboard/web-root.ts or dist/server/dashboard/web-root.js: three folders up is the package.
  return fileURLToPath(new URL('../../../dist/web', import.meta.url));
}
