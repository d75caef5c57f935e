/**
 * A client for the control-plane API of a running `trantor up` (docs/api.md): apply, get, delete,
 * logs, events. Every call carries the API token (`Authorization: Bearer`), which only the
 * home's owner can read (`<home>/api-token`, mode 0600).
 */
import { readFileSync } from 'node:fs';
import { request } from 'undici';
import { homeLayout, type ControlPlaneInfo } from '../manifest/index.ts';

export type ControlPlaneMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** An answer of the API: its status and body as text, whatever the status. */
export interface ControlPlaneAnswer {
  status: number;
  body: string;
}

/** An answer whose body is read as it arrives (`logs?follow=1`, `brokers/…/events`). */
export interface ControlPlaneStream {
  status: number;
  body: AsyncIterable<Uint8Array>;
  /** The whole body as text (for a failure's message). */
  text(): Promise<string>;
}

export interface ControlPlaneClientOptions {
  /** `http://127.0.0.1:<port>`, the `apiUrl` of `<home>/control-plane.json`. */
  apiUrl: string;
  /** The API token: the content of `<home>/api-token`. */
  token: string;
  /** Where the gateway listens, when known. */
  gatewayUrl?: string;
}

export interface FromHomeOptions {
  /** A token to use instead of the home's `api-token` file (`TRANTOR_API_TOKEN`, say). */
  token?: string;
}

/** The token kept in `home`, with a message that says what to do when it cannot be read. */
export function readApiToken(home: string): string {
  const file = homeLayout.apiToken(home);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`no API token at ${file}: trantor up --home ${home} makes one when it starts`);
    if (code === 'EACCES') throw new Error(`cannot read the API token ${file}: it belongs to the user who runs that control plane`);
    throw err;
  }
  const token = text.trim();
  if (token === '') throw new Error(`the API token file ${file} is empty; delete it and restart trantor up to make a new one`);
  return token;
}

export class ControlPlaneClient {
  readonly apiUrl: string;
  readonly gatewayUrl: string;
  // Private, so that logging or serialising a client does not print the token.
  readonly #token: string;

  constructor(options: ControlPlaneClientOptions) {
    this.apiUrl = options.apiUrl.replace(/\/+$/, '');
    this.gatewayUrl = options.gatewayUrl ?? '';
    this.#token = options.token;
  }

  /**
   * The client for the control plane of `home` (the folder `trantor up --home` was given,
   * `~/.trantor` by default): its address from `control-plane.json`, its token from `api-token`.
   */
  static fromHome(home: string, options: FromHomeOptions = {}): ControlPlaneClient {
    const file = homeLayout.controlPlane(home);
    let info: ControlPlaneInfo;
    try {
      info = JSON.parse(readFileSync(file, 'utf8')) as ControlPlaneInfo;
    } catch {
      throw new Error(`no control plane is running for home ${home} (no ${file}); start one with: trantor up --home ${home}`);
    }
    return ControlPlaneClient.of(info, options.token ?? readApiToken(home));
  }

  /** The client for a control plane already found (`control-plane.json` read and checked). */
  static of(info: ControlPlaneInfo, token: string): ControlPlaneClient {
    return new ControlPlaneClient({ apiUrl: info.apiUrl, gatewayUrl: info.gatewayUrl, token });
  }

  /** Headers with the token, for a caller with its own HTTP client. */
  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...extra, authorization: `Bearer ${this.#token}` };
  }

  /** Sends one request and reads the whole answer; throws only when the API cannot be reached. */
  async request(method: ControlPlaneMethod, path: string, body?: string, headers: Record<string, string> = {}): Promise<ControlPlaneAnswer> {
    const res = await request(`${this.apiUrl}${path}`, { method, body: body ?? null, headers: this.headers(headers) });
    return { status: res.statusCode, body: await res.body.text() };
  }

  /**
   * A GET whose body is read as it arrives; `signal` ends it. A followed log, an event tail or a
   * watch may stay quiet for hours: no body timeout (undici's default would end it after 300 s).
   */
  async stream(path: string, signal?: AbortSignal): Promise<ControlPlaneStream> {
    const res = await request(`${this.apiUrl}${path}`, { method: 'GET', headers: this.headers(), bodyTimeout: 0, ...(signal === undefined ? {} : { signal }) });
    return { status: res.statusCode, body: res.body, text: () => res.body.text() };
  }
}
