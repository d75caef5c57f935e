/**
 * The CloudEvents HTTP protocol binding: binary mode (attributes in `ce-*` headers, the data in
 * the body) and structured mode (`application/cloudevents+json`, the whole event in the body, in
 * the JSON event format). Batch mode is refused.
 *
 * Header values are percent-encoded on the way out and percent-decoded on the way in (HTTP binding,
 * "HTTP Header Values"): space, `"`, `%` and every character outside printable ASCII are sent as
 * `%XX` escapes of their UTF-8 bytes. A header value (or part of one) in double quotes is unquoted
 * first, backslash escapes removed (binding 3.1.3.2, for senders of older spec versions).
 */
import { mediaType as mediaTypeOf } from '../body.ts';
import { TrantorError } from '../errors.ts';
import { assertJsonDepth } from '../json-depth.ts';
import { CONTEXT_ATTRIBUTES, attributeText, bad, isJsonContentType, isValidAttributeName, specVersionOf, validateEvent } from './attributes.ts';
import type { CloudEvent } from './attributes.ts';
import { decodeStructured, eventToJsonText } from './json-format.ts';
import type { JsonFormatOptions } from './json-format.ts';

/** Headers as node:http gives them (lower-case names) or as a plain record of any case. */
export type HttpHeaders = Record<string, string | readonly string[] | undefined>;

export interface HttpMessage {
  headers: Record<string, string>;
  body: Buffer;
}

export const STRUCTURED_CONTENT_TYPE = 'application/cloudevents+json';
export const BATCH_CONTENT_TYPE = 'application/cloudevents-batch+json';

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

/** Structured mode: the event in the JSON format, Content-Type `application/cloudevents+json`. */
export function encodeStructured(event: CloudEvent, options: JsonFormatOptions = {}): HttpMessage {
  return {
    headers: { 'content-type': `${STRUCTURED_CONTENT_TYPE}; charset=utf-8` },
    body: Buffer.from(eventToJsonText(event, options), 'utf8'),
  };
}
