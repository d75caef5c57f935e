/**
 * CloudEvents 0.3 and 1.0 over HTTP, as the spec's HTTP protocol binding and JSON event format say:
 * binary mode (attributes in `ce-*` headers, the data in the body) and structured mode
 * (`application/cloudevents+json`, the whole event in the body). Batch mode is refused.
 *
 * Header values are percent-encoded on the way out and percent-decoded on the way in (HTTP binding,
 * "HTTP Header Values"): space, `"`, `%` and every character outside printable ASCII are sent as
 * `%XX` escapes of their UTF-8 bytes. A header value (or part of one) in double quotes is unquoted
 * first, backslash escapes removed (binding 3.1.3.2, for senders of older spec versions). Every rule
 * broken by an incoming event is a `BAD_EVENT` error whose message names the attribute.
 *
 * Exactness: structured-mode `data` is kept as the exact JSON text it arrived as (`dataText`) and
 * written back from that text, so `{"n":12345678901234567890}` reaches a subscriber byte for byte
 * in either mode, and `"data": null` stays null data, distinct from no data.
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
  /**
   * The exact JSON text of `data` as a structured-mode event carried it (what `data` was parsed
   * from). Encoders write this text instead of serialising `data` again, so numbers beyond a
   * double's precision and escapes pass through unchanged. Set it only alongside the `data` it
   * spells; whoever replaces `data` drops it.
   */
  dataText?: string;
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
/** The spec's Integer type: a 32-bit signed integer. */
const INTEGER_MIN = -2147483648;
const INTEGER_MAX = 2147483647;
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
    if (typeof value === 'number') {
      if (!Number.isInteger(value) || value < INTEGER_MIN || value > INTEGER_MAX) {
        throw bad(`${where}: extension attribute ${name} is ${String(value)}, not an integer in the spec's 32-bit range (${INTEGER_MIN} to ${INTEGER_MAX}); send it as a string`);
      }
    } else if (typeof value !== 'string' && typeof value !== 'boolean') {
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

/**
 * Removes double-quoted-string escaping (RFC 7230 §3.2.6) from a header value, as binding 3.1.3.2
 * asks before percent-decoding: each `"…"` section loses its quotes and each backslash escape
 * `\x` becomes `x`; text outside quotes is kept. An unterminated quote is a BAD_EVENT.
 */
export function unquoteHeaderValue(value: string, header = 'header'): string {
  if (!value.includes('"')) return value;
  let out = '';
  let i = 0;
  while (i < value.length) {
    const c = value[i]!;
    i++;
    if (c !== '"') {
      out += c;
      continue;
    }
    for (;;) {
      if (i >= value.length) throw bad(`${header}: a double-quoted string is not closed`);
      const d = value[i]!;
      if (d === '"') {
        i++;
        break;
      }
      if (d === '\\') {
        if (i + 1 >= value.length) throw bad(`${header}: a double-quoted string is not closed`);
        out += value[i + 1]!;
        i += 2;
        continue;
      }
      out += d;
      i++;
    }
  }
  return out;
}

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
    attributes[attribute] = percentDecodeHeaderValue(unquoteHeaderValue(raw, `header ${name}`), `header ${name}`);
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

/** Reads a structured-mode body (the JSON event format) into an event, `data` kept as its exact text. */
export function decodeStructured(body: Buffer | string, options: EventFromJsonOptions = {}): CloudEvent {
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
  const dataText = isObject(parsed) && Object.hasOwn(parsed, 'data') ? memberText(text, 'data') : undefined;
  return eventFromJson(parsed, options.where ?? 'structured-mode event', dataText === undefined ? options : { ...options, dataText });
}

export interface EventFromJsonOptions {
  /** Names the event in error messages. */
  where?: string;
  /** The exact JSON text of the object's `data` member, kept as the event's `dataText`. */
  dataText?: string;
  /**
   * false: skip validation, for events this process accepted earlier under older rules (a stored
   * event is delivered as it was accepted). Default true.
   */
  validate?: boolean;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// -- finding a member's exact text in a JSON object (the text is known to be valid JSON) --------

function skipSpace(text: string, i: number): number {
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
    else return i;
  }
}

/** The index just past the string literal that starts at `i` (at its opening quote). */
function skipString(text: string, i: number): number {
  i++;
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return i + 1;
    i += c === 0x5c ? 2 : 1;
    if (i > text.length) return text.length;
  }
}

/** The index just past the JSON value that starts at `i`. */
function skipValue(text: string, i: number): number {
  const first = text.charCodeAt(i);
  if (first === 0x22) return skipString(text, i);
  if (first !== 0x7b && first !== 0x5b) {
    // number, true, false, null: up to the next delimiter
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x2c || c === 0x7d || c === 0x5d || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) break;
      i++;
    }
    return i;
  }
  let depth = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      i = skipString(text, i);
      continue;
    }
    if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth === 0) return i + 1;
    }
    i++;
  }
  return i;
}

/**
 * The exact text of the member `name` of the JSON object `text` (valid JSON, already parsed), or
 * undefined when it has none. A repeated name gives the last one, as JSON.parse keeps the last.
 */
export function memberText(text: string, name: string): string | undefined {
  let i = skipSpace(text, 0);
  if (text.charCodeAt(i) !== 0x7b) return undefined;
  i = skipSpace(text, i + 1);
  let found: string | undefined;
  while (i < text.length && text.charCodeAt(i) !== 0x7d) {
    const keyEnd = skipString(text, i);
    const raw = text.slice(i + 1, keyEnd - 1);
    const key = raw.includes('\\') ? (JSON.parse(text.slice(i, keyEnd)) as string) : raw;
    i = skipSpace(text, keyEnd);
    i = skipSpace(text, i + 1); // past ':'
    const end = skipValue(text, i);
    if (key === name) found = text.slice(i, end);
    i = skipSpace(text, end);
    if (text.charCodeAt(i) === 0x2c) i = skipSpace(text, i + 1);
  }
  return found;
}

/**
 * An event from the JSON event format's object (already parsed), validated. Pass the `data`
 * member's exact text as `dataText` to keep it (decodeStructured does).
 */
export function eventFromJson(parsed: unknown, where = 'event', options: EventFromJsonOptions = {}): CloudEvent {
  if (!isObject(parsed)) throw bad(`${where}: must be a JSON object`);
  const obj = parsed;
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
  // `"data": null` is null data (present), unlike a null attribute, which is absent.
  const hasData = Object.hasOwn(obj, 'data') && obj['data'] !== undefined;
  const hasBase64 = Object.hasOwn(obj, 'data_base64') && obj['data_base64'] !== undefined && obj['data_base64'] !== null;
  if (hasData && hasBase64 && obj['data'] !== null) throw bad(`${where}: has both data and data_base64; send one`);
  if (hasBase64) {
    if (specversion !== '1.0') throw bad(`${where}: data_base64 is a CloudEvents 1.0 member; in 0.3 use datacontentencoding: base64`);
    event.data = base64Data(obj['data_base64'], `${where}: data_base64`);
  } else if (hasData) {
    const data = obj['data'] as JsonValue;
    if (encoding !== undefined && data !== null) {
      if (encoding !== 'base64') throw bad(`${where}: datacontentencoding ${JSON.stringify(encoding)} is not supported; only base64`);
      event.data = base64Data(data, `${where}: data (datacontentencoding base64)`);
    } else {
      event.data = data;
      if (options.dataText !== undefined) event.dataText = options.dataText;
    }
  }
  return options.validate === false ? event : validateEvent(event, where);
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

/**
 * Whether the event's (non-byte) data is a JSON value: its content type says JSON, or it has none
 * (the JSON format: an absent datacontenttype means application/json).
 */
function isJsonData(event: CloudEvent): boolean {
  return event.datacontenttype === undefined || isJsonContentType(event.datacontenttype);
}

/**
 * The event's data as bytes, as a binary-mode body carries it (empty when there is none): bytes as
 * they are, a string under a non-JSON content type as its UTF-8, any other value as its JSON text
 * (the exact text it arrived as when there is one).
 */
export function dataBytes(event: CloudEvent): Buffer {
  const data = event.data;
  if (data === undefined) return EMPTY;
  if (data instanceof Uint8Array) return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (typeof data === 'string' && !isJsonData(event)) return Buffer.from(data, 'utf8');
  return Buffer.from(event.dataText ?? JSON.stringify(data), 'utf8');
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
  /**
   * eventToJsonText: drop the whitespace between the tokens of `data`'s text (its values, numbers
   * included, stay exactly as spelled), so the event fits on one line, as newline-delimited JSON needs.
   */
  oneLine?: boolean;
}

/** The JSON format's context attributes and extensions of an event (no data). */
function attributesToJson(event: CloudEvent): Record<string, JsonValue> {
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
  return out;
}

interface DataMember {
  name: 'data' | 'data_base64';
  /** The member's value as JSON text. */
  text: string;
  /** 0.3: the data is base64 text, flagged by `datacontentencoding: base64`. */
  base64Encoding: boolean;
}

/** How the JSON format writes the event's data, or undefined when it has none. */
function dataMember(event: CloudEvent, options: JsonFormatOptions): DataMember | undefined {
  const data = event.data;
  if (data === undefined) return undefined;
  if (!(data instanceof Uint8Array)) return { name: 'data', text: event.dataText ?? JSON.stringify(data), base64Encoding: false };
  const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (options.bytes !== 'base64') {
    const embedded = embeddable(bytes, event.datacontenttype);
    if (embedded !== undefined) return { name: 'data', text: embedded, base64Encoding: false };
  }
  const base64 = JSON.stringify(bytes.toString('base64'));
  return event.specversion === '0.3'
    ? { name: 'data', text: base64, base64Encoding: true }
    : { name: 'data_base64', text: base64, base64Encoding: false };
}

/** Decodes UTF-8 keeping a byte-order mark, so bytes that start with one are not embedded as if they did not. */
const utf8KeepBom = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Bytes as the JSON text of a `data` value: JSON bytes as their own text (whitespace around the
 * value dropped: it is not part of a JSON value), text as a JSON string; undefined when they
 * are neither (they go as base64).
 */
function embeddable(bytes: Buffer, contentType: string | undefined): string | undefined {
  let text: string;
  try {
    text = utf8KeepBom.decode(bytes);
  } catch {
    return undefined;
  }
  if (isJsonContentType(contentType)) {
    try {
      JSON.parse(text);
    } catch {
      return undefined;
    }
    return text.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
  }
  return mediaTypeOf(contentType).startsWith('text/') ? JSON.stringify(text) : undefined;
}

/**
 * The JSON event format's object for an event. Its `data` is a parsed value, so numbers beyond a
 * double's precision are rounded: write events with eventToJsonText where exactness matters.
 */
export function eventToJson(event: CloudEvent, options: JsonFormatOptions = {}): Record<string, JsonValue> {
  const out = attributesToJson(event);
  const member = dataMember(event, options);
  if (member === undefined) return out;
  if (member.base64Encoding) out['datacontentencoding'] = 'base64';
  out[member.name] = !(event.data instanceof Uint8Array) && event.dataText === undefined ? (event.data as JsonValue) : (JSON.parse(member.text) as JsonValue);
  return out;
}

/** The event in the JSON event format, as text, with `data` written exactly (its `dataText` when it has one). */
export function eventToJsonText(event: CloudEvent, options: JsonFormatOptions = {}): string {
  const head = JSON.stringify(attributesToJson(event));
  const member = dataMember(event, options);
  if (member === undefined) return head;
  const encoding = member.base64Encoding ? '"datacontentencoding":"base64",' : '';
  const text = options.oneLine === true ? withoutWhitespace(member.text) : member.text;
  return `${head.slice(0, -1)},${encoding}"${member.name}":${text}}`;
}

/** JSON text without the whitespace between its tokens (strings kept as they are). */
function withoutWhitespace(text: string): string {
  if (!/[ \t\r\n]/.test(text)) return text;
  let out = '';
  let from = 0;
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      i = skipString(text, i);
    } else if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
      out += text.slice(from, i);
      i = skipSpace(text, i);
      from = i;
    } else {
      i++;
    }
  }
  return out + text.slice(from);
}

/** Structured mode: the event in the JSON format, Content-Type `application/cloudevents+json`. */
export function encodeStructured(event: CloudEvent, options: JsonFormatOptions = {}): HttpMessage {
  return {
    headers: { 'content-type': `${STRUCTURED_CONTENT_TYPE}; charset=utf-8` },
    body: Buffer.from(eventToJsonText(event, options), 'utf8'),
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
