/**
 * CloudEvents 0.3 and 1.0 over HTTP, as the spec's HTTP protocol binding and JSON event format say:
 * binary mode (attributes in `ce-*` headers, the data in the body) and structured mode
 * (`application/cloudevents+json`, the whole event in the body). Batch mode is refused.
 *
 * Header values are percent-encoded on the way out and percent-decoded on the way in (HTTP binding,
 * "HTTP Header Values"): space, `"`, `%` and every character outside printable ASCII are sent as
 * `%XX` escapes of their UTF-8 bytes. Every rule broken by an incoming event is a `BAD_EVENT` error
 * whose message names the attribute.
 */
import { mediaType as mediaTypeOf } from './body.ts';
import { TrantorError } from './errors.ts';
import { assertJsonDepth } from './json-depth.ts';

export type CloudEventSpecVersion = '0.3' | '1.0';
export const CLOUDEVENT_SPEC_VERSIONS: readonly CloudEventSpecVersion[] = ['0.3', '1.0'];

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** An extension attribute's value: the JSON format allows strings, integers and booleans. */
export type CloudEventExtensionValue = string | number | boolean;

/**
 * The event's data: bytes (as a binary-mode body or a structured `data_base64` carries them) or a
 * JSON value (as a structured `data` member carries it; a string when the content type is not JSON).
 */
export type CloudEventData = Uint8Array | JsonValue;

export interface CloudEvent {
  specversion: CloudEventSpecVersion;
  id: string;
  source: string;
  type: string;
  datacontenttype?: string;
  /** 1.0 */
  dataschema?: string;
  /** 0.3 (became `dataschema` in 1.0) */
  schemaurl?: string;
  subject?: string;
  /** RFC 3339 timestamp */
  time?: string;
  /** Extension attributes by (lower-case, alphanumeric) name. */
  extensions: Record<string, CloudEventExtensionValue>;
  data?: CloudEventData;
}

/** Headers as node:http gives them (lower-case names) or as a plain record of any case. */
export type HttpHeaders = Record<string, string | readonly string[] | undefined>;

export interface HttpMessage {
  headers: Record<string, string>;
  body: Buffer;
}

export const STRUCTURED_CONTENT_TYPE = 'application/cloudevents+json';
export const BATCH_CONTENT_TYPE = 'application/cloudevents-batch+json';

const REQUIRED = ['id', 'source', 'type'] as const;
/** Context attributes that are not extensions, per version (specversion handled apart). */
const CONTEXT_ATTRIBUTES: Record<CloudEventSpecVersion, ReadonlySet<string>> = {
  '1.0': new Set(['id', 'source', 'type', 'datacontenttype', 'dataschema', 'subject', 'time']),
  '0.3': new Set(['id', 'source', 'type', 'datacontenttype', 'schemaurl', 'subject', 'time', 'datacontentencoding']),
};
const ATTRIBUTE_NAME = /^[a-z0-9]+$/;
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$/;

function bad(message: string): TrantorError {
  return new TrantorError('BAD_EVENT', message);
}

// ---------------------------------------------------------------------------------------------
// Validation

/** Whether `value` is an RFC 3339 date-time (with a valid date, hour, minute, second and offset). */
export function isRfc3339(value: string): boolean {
  const m = RFC3339.exec(value);
  if (m === null) return false;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 60) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
  if (day > days) return false;
  if (m[9] !== undefined && (Number(m[9]) > 23 || Number(m[10]) > 59)) return false;
  return true;
}

/** Whether `name` may name an extension attribute: lower-case letters and digits only. */
export function isValidAttributeName(name: string): boolean {
  return ATTRIBUTE_NAME.test(name);
}

function specVersionOf(value: unknown, where: string): CloudEventSpecVersion {
  if (value === undefined || value === null || value === '') throw bad(`${where}: missing required attribute specversion`);
  if (value !== '0.3' && value !== '1.0') {
    throw bad(`${where}: specversion ${JSON.stringify(value)} is not supported; use 1.0 or 0.3`);
  }
  return value;
}

/**
 * Checks an event against the spec's rules; throws BAD_EVENT naming the first attribute that
 * breaks one. Decoders call it; call it too on events built in code before publishing them.
 */
export function validateEvent(event: CloudEvent, where = 'event'): CloudEvent {
  specVersionOf(event.specversion, where);
  for (const name of REQUIRED) {
    const value = event[name] as unknown;
    if (value === undefined) throw bad(`${where}: missing required attribute ${name}`);
    if (typeof value !== 'string') throw bad(`${where}: attribute ${name} must be a string`);
    if (value === '') throw bad(`${where}: attribute ${name} must not be empty`);
  }
  for (const name of ['datacontenttype', 'dataschema', 'schemaurl', 'subject', 'time'] as const) {
    const value = event[name] as unknown;
    if (value === undefined) continue;
    if (typeof value !== 'string') throw bad(`${where}: attribute ${name} must be a string`);
    if (value === '') throw bad(`${where}: attribute ${name} must not be empty`);
  }
  if (event.time !== undefined && !isRfc3339(event.time)) {
    throw bad(`${where}: attribute time ${JSON.stringify(event.time)} is not an RFC 3339 timestamp (e.g. 2020-03-17T22:22:51.189Z)`);
  }
  const context = CONTEXT_ATTRIBUTES[event.specversion];
  for (const [name, value] of Object.entries(event.extensions)) {
    if (!isValidAttributeName(name)) {
      throw bad(`${where}: extension attribute name ${JSON.stringify(name)} must be lower-case letters and digits only`);
    }
    if (name === 'specversion' || name === 'data' || context.has(name)) {
      throw bad(`${where}: ${name} is a context attribute, not an extension`);
    }
    if (typeof value === 'number' ? !Number.isInteger(value) : typeof value !== 'string' && typeof value !== 'boolean') {
      throw bad(`${where}: extension attribute ${name} must be a string, an integer or a boolean`);
    }
  }
  return event;
}

// ---------------------------------------------------------------------------------------------
// Percent-encoding of header values

const HEX = '0123456789ABCDEF';

/** Percent-encodes a header value: space, `"`, `%` and anything outside U+0021–U+007E, as UTF-8 bytes. */
export function percentEncodeHeaderValue(value: string): string {
  let plain = true;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || c === 0x22 || c === 0x25) {
      plain = false;
      break;
    }
  }
  if (plain) return value;
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    if (byte <= 0x20 || byte >= 0x7f || byte === 0x22 || byte === 0x25) out += `%${HEX[byte >> 4]}${HEX[byte & 15]}`;
    else out += String.fromCharCode(byte);
  }
  return out;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/**
 * Percent-decodes a header value, then reads the bytes as UTF-8. The value arrives as node:http
 * gives it (each byte one latin-1 character), so raw UTF-8 sent without escapes is read too.
 * Throws BAD_EVENT for a `%` not followed by two hex digits or bytes that are not UTF-8.
 */
export function percentDecodeHeaderValue(value: string, header = 'header'): string {
  let ascii = true;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x25 || c >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return value;
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x25) {
      const hi = hexDigit(value.charCodeAt(i + 1));
      const lo = hexDigit(value.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) throw bad(`${header}: invalid percent-encoding at ${JSON.stringify(value.slice(i, i + 3))}`);
      bytes.push(hi * 16 + lo);
      i += 2;
    } else if (c > 0xff) {
      // Not from the wire (node gives bytes as latin-1): take the character as it is.
      bytes.push(...Buffer.from(String.fromCharCode(c), 'utf8'));
    } else {
      bytes.push(c);
    }
  }
  try {
    return utf8.decode(Uint8Array.from(bytes));
  } catch {
    throw bad(`${header}: not valid UTF-8 after percent-decoding`);
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding

function headerValue(value: string | readonly string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  return value.join(',');
}

/** Whether a content type says the data is JSON (`application/json`, `text/json`, `…+json`). */
export function isJsonContentType(contentType: string | undefined): boolean {
  const type = mediaTypeOf(contentType);
  return type === 'application/json' || type === 'text/json' || type.endsWith('+json');
}

/** Which mode a request's headers say it is in: binary, structured, batch or none (not an event). */
export function httpEventMode(headers: HttpHeaders): 'binary' | 'structured' | 'batch' | 'none' {
  let contentType: string | undefined;
  let ce = false;
  for (const name in headers) {
    const lower = name.toLowerCase();
    if (lower === 'content-type') contentType = headerValue(headers[name]);
    else if (lower === 'ce-specversion') ce = true;
  }
  const type = mediaTypeOf(contentType);
  if (type === BATCH_CONTENT_TYPE) return 'batch';
  if (type.startsWith('application/cloudevents')) return 'structured';
  return ce ? 'binary' : 'none';
}

/**
 * Reads a CloudEvent from an HTTP request or response: structured mode when the Content-Type is
 * `application/cloudevents+json`, binary mode otherwise. Batch mode and other event formats are
 * refused. Throws BAD_EVENT (400) saying what is wrong; the event returned is valid.
 */
export function decodeHttpEvent(headers: HttpHeaders, body: Buffer): CloudEvent {
  let contentType: string | undefined;
  for (const name in headers) {
    if (name.length === 12 && name.toLowerCase() === 'content-type') contentType = headerValue(headers[name]);
  }
  const type = mediaTypeOf(contentType);
  if (type === BATCH_CONTENT_TYPE) {
    throw bad(`batch mode (${BATCH_CONTENT_TYPE}) is not supported; send one event per request`);
  }
  if (type.startsWith('application/cloudevents')) {
    if (type !== STRUCTURED_CONTENT_TYPE) {
      throw new TrantorError('UNSUPPORTED_MEDIA_TYPE', `event format ${type} is not supported; use ${STRUCTURED_CONTENT_TYPE} or binary mode`);
    }
    return decodeStructured(body);
  }
  return decodeBinary(headers, contentType, body);
}

function decodeBinary(headers: HttpHeaders, contentType: string | undefined, body: Buffer): CloudEvent {
  const attributes: Record<string, string> = {};
  for (const name in headers) {
    if (name.length < 4) continue;
    const c0 = name.charCodeAt(0) | 0x20;
    const c1 = name.charCodeAt(1) | 0x20;
    if (c0 !== 0x63 || c1 !== 0x65 || name.charCodeAt(2) !== 0x2d) continue; // "ce-"
    const raw = headerValue(headers[name]);
    if (raw === undefined) continue;
    const attribute = name.slice(3).toLowerCase();
    if (!isValidAttributeName(attribute)) {
      throw bad(`header ${name}: attribute name ${JSON.stringify(attribute)} must be lower-case letters and digits only`);
    }
    attributes[attribute] = percentDecodeHeaderValue(raw, `header ${name}`);
  }
  const specversion = specVersionOf(attributes['specversion'], 'binary-mode event (Ce-Specversion header)');
  const context = CONTEXT_ATTRIBUTES[specversion];
  const event: CloudEvent = {
    specversion,
    id: attributes['id'] ?? (undefined as unknown as string),
    source: attributes['source'] ?? (undefined as unknown as string),
    type: attributes['type'] ?? (undefined as unknown as string),
    extensions: {},
  };
  for (const [name, value] of Object.entries(attributes)) {
    if (name === 'specversion' || name === 'id' || name === 'source' || name === 'type') continue;
    if (name === 'datacontenttype' || name === 'datacontentencoding') continue;
    if (context.has(name)) (event as unknown as Record<string, string>)[name] = value;
    else event.extensions[name] = value;
  }
  const dataContentType = contentType ?? attributes['datacontenttype'];
  if (dataContentType !== undefined) event.datacontenttype = dataContentType;
  // JSON data is parsed when the event is stored or answered: refuse what could not be walked.
  if (isJsonContentType(dataContentType)) assertJsonDepth(body, 'event data');
  if (body.length > 0) event.data = body;
  return validateEvent(event, 'binary-mode event');
}

/** Reads a structured-mode body (the JSON event format) into an event. */
export function decodeStructured(body: Buffer | string): CloudEvent {
  let text: string;
  if (typeof body === 'string') text = body;
  else {
    try {
      text = utf8.decode(body);
    } catch {
      throw bad('structured-mode event: the body is not valid UTF-8');
    }
  }
  assertJsonDepth(text, 'structured-mode event');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch (err) {
    throw bad(`structured-mode event: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  return eventFromJson(parsed, 'structured-mode event');
}

/** An event from the JSON event format's object (already parsed), validated. */
export function eventFromJson(parsed: unknown, where = 'event'): CloudEvent {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw bad(`${where}: must be a JSON object`);
  }
  const obj = parsed as Record<string, unknown>;
  const specversion = specVersionOf(obj['specversion'], where);
  const context = CONTEXT_ATTRIBUTES[specversion];
  const event: CloudEvent = {
    specversion,
    id: obj['id'] as string,
    source: obj['source'] as string,
    type: obj['type'] as string,
    extensions: {},
  };
  let encoding: unknown;
  for (const [name, value] of Object.entries(obj)) {
    if (value === null) continue; // JSON format: null means the attribute is absent
    switch (name) {
      case 'specversion': case 'id': case 'source': case 'type': case 'data': case 'data_base64':
        continue;
      case 'datacontentencoding':
        if (specversion === '0.3') {
          encoding = value;
          continue;
        }
        break;
    }
    if (context.has(name)) {
      (event as unknown as Record<string, unknown>)[name] = value;
    } else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      event.extensions[name] = value;
    } else {
      throw bad(`${where}: extension attribute ${name} must be a string, an integer or a boolean`);
    }
  }
  const hasData = 'data' in obj && obj['data'] !== undefined;
  const hasBase64 = 'data_base64' in obj && obj['data_base64'] !== undefined && obj['data_base64'] !== null;
  if (hasData && hasBase64) throw bad(`${where}: has both data and data_base64; send one`);
  if (hasBase64) {
    if (specversion !== '1.0') throw bad(`${where}: data_base64 is a CloudEvents 1.0 member; in 0.3 use datacontentencoding: base64`);
    event.data = base64Data(obj['data_base64'], `${where}: data_base64`);
  } else if (hasData) {
    const data = obj['data'] as JsonValue;
    if (encoding !== undefined) {
      if (encoding !== 'base64') throw bad(`${where}: datacontentencoding ${JSON.stringify(encoding)} is not supported; only base64`);
      event.data = base64Data(data, `${where}: data (datacontentencoding base64)`);
    } else if (data !== null) {
      event.data = data;
    }
  }
  return validateEvent(event, where);
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function base64Data(value: unknown, where: string): Buffer {
  if (typeof value !== 'string') throw bad(`${where} must be a base64 string`);
  const compact = value.replace(/\s+/g, '');
  if (!BASE64.test(compact) || compact.length % 4 === 1) throw bad(`${where} is not valid base64`);
  return Buffer.from(compact, 'base64');
}

// ---------------------------------------------------------------------------------------------
// Encoding

/** The event's data as bytes, as a binary-mode body carries it (empty when there is none). */
export function dataBytes(event: CloudEvent): Buffer {
  const data = event.data;
  if (data === undefined) return EMPTY;
  if (data instanceof Uint8Array) return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (typeof data === 'string' && !isJsonContentType(event.datacontenttype)) return Buffer.from(data, 'utf8');
  return Buffer.from(JSON.stringify(data), 'utf8');
}

const EMPTY = Buffer.alloc(0);

function attributeText(value: CloudEventExtensionValue): string {
  return typeof value === 'string' ? value : String(value);
}

/** Binary mode: attributes as percent-encoded `ce-*` headers, datacontenttype as Content-Type. */
export function encodeBinary(event: CloudEvent): HttpMessage {
  const headers: Record<string, string> = {
    'ce-specversion': event.specversion,
    'ce-id': percentEncodeHeaderValue(event.id),
    'ce-source': percentEncodeHeaderValue(event.source),
    'ce-type': percentEncodeHeaderValue(event.type),
  };
  if (event.subject !== undefined) headers['ce-subject'] = percentEncodeHeaderValue(event.subject);
  if (event.time !== undefined) headers['ce-time'] = percentEncodeHeaderValue(event.time);
  if (event.specversion === '1.0' && event.dataschema !== undefined) headers['ce-dataschema'] = percentEncodeHeaderValue(event.dataschema);
  if (event.specversion === '0.3' && event.schemaurl !== undefined) headers['ce-schemaurl'] = percentEncodeHeaderValue(event.schemaurl);
  for (const [name, value] of Object.entries(event.extensions)) headers[`ce-${name}`] = percentEncodeHeaderValue(attributeText(value));
  if (event.datacontenttype !== undefined) headers['content-type'] = event.datacontenttype;
  else if (event.data !== undefined && !(event.data instanceof Uint8Array)) headers['content-type'] = 'application/json';
  return { headers, body: dataBytes(event) };
}

export interface JsonFormatOptions {
  /**
   * How byte data is written: `auto` (default) embeds it as `data` when the content type is JSON
   * (or text) and it parses, else `data_base64`; `base64` always writes `data_base64`, so the
   * bytes come back exactly (what a store wants).
   */
  bytes?: 'auto' | 'base64';
}

/** The JSON event format's object for an event. */
export function eventToJson(event: CloudEvent, options: JsonFormatOptions = {}): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {
    specversion: event.specversion,
    id: event.id,
    source: event.source,
    type: event.type,
  };
  if (event.datacontenttype !== undefined) out['datacontenttype'] = event.datacontenttype;
  if (event.specversion === '1.0' && event.dataschema !== undefined) out['dataschema'] = event.dataschema;
  if (event.specversion === '0.3' && event.schemaurl !== undefined) out['schemaurl'] = event.schemaurl;
  if (event.subject !== undefined) out['subject'] = event.subject;
  if (event.time !== undefined) out['time'] = event.time;
  for (const [name, value] of Object.entries(event.extensions)) out[name] = value;
  const data = event.data;
  if (data === undefined) return out;
  if (!(data instanceof Uint8Array)) {
    out['data'] = data;
    return out;
  }
  const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (options.bytes !== 'base64') {
    const embedded = embeddable(bytes, event.datacontenttype);
    if (embedded !== undefined) {
      out['data'] = embedded;
      return out;
    }
  }
  if (event.specversion === '0.3') {
    out['datacontentencoding'] = 'base64';
    out['data'] = bytes.toString('base64');
  } else {
    out['data_base64'] = bytes.toString('base64');
  }
  return out;
}

function embeddable(bytes: Buffer, contentType: string | undefined): JsonValue | undefined {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return undefined;
  }
  if (isJsonContentType(contentType)) {
    try {
      return JSON.parse(text) as JsonValue;
    } catch {
      return undefined;
    }
  }
  return mediaTypeOf(contentType).startsWith('text/') ? text : undefined;
}

/** Structured mode: the event in the JSON format, Content-Type `application/cloudevents+json`. */
export function encodeStructured(event: CloudEvent, options: JsonFormatOptions = {}): HttpMessage {
  return {
    headers: { 'content-type': `${STRUCTURED_CONTENT_TYPE}; charset=utf-8` },
    body: Buffer.from(JSON.stringify(eventToJson(event, options)), 'utf8'),
  };
}

/** The value of a context or extension attribute as text (what filters compare), or undefined. */
export function attributeOf(event: CloudEvent, name: string): string | undefined {
  switch (name) {
    case 'specversion': return event.specversion;
    case 'id': return event.id;
    case 'source': return event.source;
    case 'type': return event.type;
    case 'datacontenttype': return event.datacontenttype;
    case 'subject': return event.subject;
    case 'time': return event.time;
    case 'dataschema': return event.specversion === '1.0' ? event.dataschema : event.extensions[name] === undefined ? undefined : attributeText(event.extensions[name]);
    case 'schemaurl': return event.specversion === '0.3' ? event.schemaurl : event.extensions[name] === undefined ? undefined : attributeText(event.extensions[name]);
    default: {
      const value = event.extensions[name];
      return value === undefined ? undefined : attributeText(value);
    }
  }
}
