/** The dashboard's pages, named by the location's hash. */

export interface Route {
  page: 'overview' | 'deployment' | 'eventing' | 'apply';
  /** The rest of the path, decoded: `[namespace, name, tab]` for a deployment. */
  parts: string[];
}

/** A hash part decoded; one with a broken %-escape (typed by hand) is taken as it is. */
function decoded(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter((p) => p !== '').map(decoded);
  const [first, ...rest] = parts;
  if (first === 'deployments' && rest.length >= 2) return { page: 'deployment', parts: rest };
  if (first === 'eventing') return { page: 'eventing', parts: rest };
  if (first === 'apply') return { page: 'apply', parts: rest };
  return { page: 'overview', parts: [] };
}

/** The hash of a page, each part encoded. */
export function href(...parts: string[]): string {
  return `#/${parts.map((p) => encodeURIComponent(p)).join('/')}`;
}
