/**
 * The operator's few calls to the Kubernetes API, over plain HTTPS with the TLS and credentials a
 * KubeConfig gives (kubeconfig file, or in-cluster service account): server-side apply, a status
 * patch through the subresource, delete, list and watch. Plain requests rather than client-node's
 * typed APIs: one code path for every kind (custom ones included, with no discovery round trip),
 * the status subresource and apply content types under our control, and a watch whose end, error
 * and silence the informer sees as they are.
 */
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from 'node:https';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';

/** The field manager of every apply the operator makes. */
export const FIELD_MANAGER = 'trantor-operator';

/** Any object as the API server returns it. */
export interface LiveObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    deletionTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  };
  spec?: unknown;
  status?: unknown;
  [key: string]: unknown;
}

/** Where a kind lives: `/apis/apps/v1` + `deployments`. */
export interface Resource {
  readonly apiVersion: string;
  readonly plural: string;
}

/** A refusal from the API server, with its HTTP status and the Status object's reason. */
export class KubeError extends Error {
  override name = 'KubeError';
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export type WatchEvent = { type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK'; object: LiveObject } | { type: 'ERROR'; object: { code?: number; reason?: string; message?: string } };

const IRREGULAR_PLURALS: Readonly<Record<string, string>> = { Ingress: 'ingresses', Endpoints: 'endpoints' };

/** The resource of `kind` in `apiVersion` (lowercase plural, as every kind the operator touches names it). */
export function resourceOf(apiVersion: string, kind: string): Resource {
  return { apiVersion, plural: IRREGULAR_PLURALS[kind] ?? `${kind.toLowerCase()}s` };
}

/** `/apis/apps/v1/namespaces/ns/deployments[/name]`; all namespaces when `namespace` is undefined. */
export function resourcePath(resource: Resource, namespace?: string, name?: string): string {
  const base = resource.apiVersion.includes('/') ? `/apis/${resource.apiVersion}` : `/api/${resource.apiVersion}`;
  const scoped = namespace === undefined ? base : `${base}/namespaces/${encodeURIComponent(namespace)}`;
  return `${scoped}/${resource.plural}${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;
}

export interface ListResult {
  readonly items: LiveObject[];
  readonly resourceVersion: string;
}

export interface WatchOptions {
  readonly resourceVersion: string;
  readonly labelSelector?: string;
  readonly timeoutSeconds: number;
  /** Called for each event, in order. */
  readonly onEvent: (event: WatchEvent) => void;
  /** Called on every chunk of bytes (events and bookmarks alike), for the watchdog. */
  readonly onData?: () => void;
  readonly signal: AbortSignal;
}

export class KubeClient {
  /** How many requests of each verb this client sent (tests count writes). */
  readonly sent = { get: 0, list: 0, watch: 0, log: 0, apply: 0, patchStatus: 0, delete: 0, create: 0, replace: 0, patch: 0 };

  private constructor(
    private readonly server: URL,
    private readonly base: RequestOptions,
    private readonly requestTimeoutMs: number,
  ) {}

  /** A client for the current context of `config`. */
  static async of(config: KubeConfig, requestTimeoutMs: number): Promise<KubeClient> {
    const cluster = config.getCurrentCluster();
    if (cluster === null) throw new Error('the kubeconfig has no current cluster');
    const base: RequestOptions = {};
    await config.applyToHTTPSOptions(base);
    const server = new URL(cluster.server);
    // Connections kept alive: a TLS handshake (and a new secure context) per request costs the
    // operator and the API server more than the request itself. A proxy keeps its own agent.
    if (cluster.proxyUrl === undefined) base.agent = server.protocol === 'http:' ? new HttpAgent({ keepAlive: true }) : new HttpsAgent({ keepAlive: true });
    return new KubeClient(server, base, requestTimeoutMs);
  }

  /** Server-side apply of `object`, forced: the operator owns what it renders. */
  async apply(object: LiveObject, fieldManager = FIELD_MANAGER): Promise<LiveObject> {
    this.sent.apply++;
    const resource = resourceOf(object.apiVersion ?? '', object.kind ?? '');
    const path = `${resourcePath(resource, object.metadata.namespace, object.metadata.name)}?fieldManager=${encodeURIComponent(fieldManager)}&force=true`;
    return (await this.call('PATCH', path, object, 'application/apply-patch+yaml')) as LiveObject;
  }

  /** Merges `status` into the object's through the status subresource (a key set to null is removed). */
  async patchStatus(resource: Resource, namespace: string, name: string, status: unknown): Promise<LiveObject> {
    this.sent.patchStatus++;
    return (await this.call('PATCH', `${resourcePath(resource, namespace, name)}/status`, { status }, 'application/merge-patch+json')) as LiveObject;
  }

  /** One object; namespace undefined for a cluster-scoped kind. */
  async get(resource: Resource, namespace: string | undefined, name: string): Promise<LiveObject | undefined> {
    this.sent.get++;
    try {
      return (await this.call('GET', resourcePath(resource, namespace, name))) as LiveObject;
    } catch (error) {
      if (error instanceof KubeError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** Deletes in the background (the garbage collector removes what it owned) unless told otherwise; absent is fine. */
  async delete(resource: Resource, namespace: string, name: string, options: { propagationPolicy?: 'Background' | 'Foreground'; gracePeriodSeconds?: number } = {}): Promise<void> {
    this.sent.delete++;
    try {
      await this.call('DELETE', resourcePath(resource, namespace, name), { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background', ...options });
    } catch (error) {
      if (!(error instanceof KubeError && error.status === 404)) throw error;
    }
  }

  /** A patch of `contentType` (JSON patch, merge patch) to one object; namespace undefined for a cluster-scoped kind. */
  async patch(resource: Resource, namespace: string | undefined, name: string, patch: unknown, contentType: string): Promise<LiveObject> {
    this.sent.patch++;
    return (await this.call('PATCH', resourcePath(resource, namespace, name), patch, contentType)) as LiveObject;
  }

  async create(resource: Resource, namespace: string, object: unknown): Promise<LiveObject> {
    this.sent.create++;
    return (await this.call('POST', resourcePath(resource, namespace), object)) as LiveObject;
  }

  /** Replaces the object; a 409 when its resourceVersion is no longer current. */
  async replace(resource: Resource, namespace: string, object: LiveObject): Promise<LiveObject> {
    this.sent.replace++;
    return (await this.call('PUT', resourcePath(resource, namespace, object.metadata.name), object)) as LiveObject;
  }

  async list(resource: Resource, namespace: string | undefined, labelSelector?: string): Promise<ListResult> {
    this.sent.list++;
    const query = labelSelector === undefined ? '' : `?labelSelector=${encodeURIComponent(labelSelector)}`;
    const list = (await this.call('GET', resourcePath(resource, namespace) + query)) as { items?: LiveObject[]; metadata?: { resourceVersion?: string } };
    const kind = resourceKind(list);
    return { items: (list.items ?? []).map((item) => ({ ...item, apiVersion: item.apiVersion ?? resource.apiVersion, kind: item.kind ?? kind ?? '' })), resourceVersion: list.metadata?.resourceVersion ?? '' };
  }

  /**
   * Watches from `resourceVersion` until the server ends the stream (its `timeoutSeconds`), the
   * signal aborts it, or it fails; rejects with a KubeError when the server refuses to start it
   * (410 Gone for a compacted version).
   */
  async watch(resource: Resource, namespace: string | undefined, options: WatchOptions): Promise<void> {
    this.sent.watch++;
    const query = new URLSearchParams({ watch: 'true', allowWatchBookmarks: 'true', resourceVersion: options.resourceVersion, timeoutSeconds: String(options.timeoutSeconds) });
    if (options.labelSelector !== undefined) query.set('labelSelector', options.labelSelector);
    const response = await this.open('GET', `${resourcePath(resource, namespace)}?${query.toString()}`, undefined, undefined, options.signal);
    if ((response.statusCode ?? 0) >= 300) throw await kubeError(response);
    await readLines(response, options.onData, (line) => {
      if (line.trim() !== '') options.onEvent(JSON.parse(line) as WatchEvent);
    });
  }

  /**
   * Follows a container's output (`pods/log`, `follow=true`) line by line until the container's
   * output ends, the signal aborts it, or it fails; the first `tailLines` lines of what it printed
   * already, when given.
   */
  async followLog(namespace: string, pod: string, container: string, options: { readonly tailLines?: number; readonly signal: AbortSignal; readonly onLine: (line: string) => void }): Promise<void> {
    this.sent.log++;
    const query = new URLSearchParams({ container, follow: 'true' });
    if (options.tailLines !== undefined) query.set('tailLines', String(options.tailLines));
    const response = await this.open('GET', `${resourcePath({ apiVersion: 'v1', plural: 'pods' }, namespace, pod)}/log?${query.toString()}`, undefined, undefined, options.signal);
    if ((response.statusCode ?? 0) >= 300) throw await kubeError(response);
    await readLines(response, undefined, options.onLine);
  }

  private async call(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<unknown> {
    const response = await this.open(method, path, body, contentType, AbortSignal.timeout(this.requestTimeoutMs));
    if ((response.statusCode ?? 0) >= 300) throw await kubeError(response);
    const text = await readAll(response);
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  }

  private open(method: string, path: string, body: unknown, contentType: string | undefined, signal: AbortSignal): Promise<IncomingMessage> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string | number> = { ...(this.base.headers as Record<string, string> | undefined), accept: 'application/json' };
    if (payload !== undefined) {
      headers['content-type'] = contentType ?? 'application/json';
      headers['content-length'] = Buffer.byteLength(payload);
    }
    const send = this.server.protocol === 'http:' ? httpRequest : httpsRequest;
    return new Promise((resolve, reject) => {
      const req = send(
        { ...this.base, protocol: this.server.protocol, hostname: this.server.hostname, port: this.server.port, method, path: this.server.pathname.replace(/\/$/, '') + path, headers, signal },
        resolve,
      );
      req.once('error', reject);
      req.end(payload);
    });
  }
}

function resourceKind(list: unknown): string | undefined {
  const kind = (list as { kind?: unknown }).kind;
  return typeof kind === 'string' && kind.endsWith('List') ? kind.slice(0, -'List'.length) : undefined;
}

/** Calls `onLine` with each line of `response` (without its newline) until it ends; a throwing `onLine` ends it. */
function readLines(response: IncomingMessage, onData: (() => void) | undefined, onLine: (line: string) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let pending = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      onData?.();
      pending += chunk;
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        try {
          onLine(line);
        } catch (error) {
          response.destroy(error instanceof Error ? error : new Error(String(error)));
          return;
        }
      }
    });
    response.once('end', resolve);
    response.once('error', reject);
    response.once('close', resolve);
  });
}

function readAll(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.once('error', reject);
  });
}

async function kubeError(response: IncomingMessage): Promise<KubeError> {
  const text = await readAll(response).catch(() => '');
  let reason = '';
  let message = text.slice(0, 2000);
  try {
    const status = JSON.parse(text) as { reason?: string; message?: string };
    reason = status.reason ?? '';
    message = status.message ?? message;
  } catch {
    // Not a Status object: keep the text.
  }
  return new KubeError(response.statusCode ?? 0, reason, `${response.statusCode ?? 0} ${reason}: ${message}`);
}
