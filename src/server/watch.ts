/**
 * Kubernetes-style watches of the API's collections (`GET /v1/<plural>?watch=1`): a chunked stream
 * of JSON lines `{"type":"ADDED"|"MODIFIED"|"DELETED","object":…}`. The control plane says when
 * something may have changed (`Changes`); the stream then lists the collection again and sends
 * what differs from what it last sent, so a burst of changes costs one listing and an object
 * whose view did not change sends nothing.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchEvent<T> {
  type: WatchEventType;
  object: T;
}

/** Subscribes `onChange` to "something may have changed"; returns how to unsubscribe. */
export type Subscribe = (onChange: () => void) => () => void;

/** Listeners told that the objects they show may have changed. */
export class Changes {
  readonly #listeners = new Set<() => void>();

  subscribe: Subscribe = (onChange) => {
    this.#listeners.add(onChange);
    return () => this.#listeners.delete(onChange);
  };

  notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}

type Keyed = { metadata: { namespace: string; name: string } };

/**
 * What changed between the objects last sent (`sent`: key → JSON) and `now`; updates `sent`.
 * Objects in `now` not yet sent are ADDED, ones whose JSON differs MODIFIED, and sent ones
 * missing from `now` DELETED (with their last state, as Kubernetes sends it).
 */
export function diffObjects<T extends Keyed>(sent: Map<string, string>, now: readonly T[]): WatchEvent<T>[] {
  const events: WatchEvent<T>[] = [];
  const seen = new Set<string>();
  for (const object of now) {
    const key = `${object.metadata.namespace}/${object.metadata.name}`;
    seen.add(key);
    const json = JSON.stringify(object);
    const before = sent.get(key);
    if (before === json) continue;
    events.push({ type: before === undefined ? 'ADDED' : 'MODIFIED', object });
    sent.set(key, json);
  }
  for (const [key, json] of sent) {
    if (seen.has(key)) continue;
    sent.delete(key);
    events.push({ type: 'DELETED', object: JSON.parse(json) as T });
  }
  return events;
}

/**
 * Answers a watch: every current object as ADDED (unless `?sendInitialEvents=false`), then an
 * event per change until the client goes away or the server closes.
 */
export function streamWatch<T extends Keyed>(req: IncomingMessage, res: ServerResponse, url: URL, list: () => T[], subscribe: Subscribe): void {
  const sent = new Map<string, string>();
  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  res.flushHeaders(); // a watch may stay quiet for long: the client learns the status now
  const send = (): void => {
    for (const event of diffObjects(sent, list())) res.write(`${JSON.stringify(event)}\n`);
  };
  if (url.searchParams.get('sendInitialEvents') === 'false') diffObjects(sent, list());
  else send();
  let pending = false;
  const unsubscribe = subscribe(() => {
    if (pending) return;
    pending = true;
    setImmediate(() => {
      pending = false;
      if (!res.writableEnded) send();
    });
  });
  req.socket.on('close', unsubscribe);
}

/** Whether the query asks for a watch (`?watch=1` or `?watch=true`, as Kubernetes takes). */
export function wantsWatch(url: URL): boolean {
  const value = url.searchParams.get('watch');
  return value === '1' || value === 'true';
}
