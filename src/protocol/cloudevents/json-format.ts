/**
 * The CloudEvents JSON event format: an event as a JSON object and back, for 0.3 and 1.0
 * (`data` as a JSON value, `data_base64` for bytes in 1.0, `datacontentencoding: base64` in 0.3).
 *
 * Exactness: `data` read from JSON text is kept as that exact text (`dataText`) and written back
 * from it, so `{"n":12345678901234567890}` passes byte for byte, and `"data": null` stays null
 * data, distinct from no data.
 */
import { mediaType as mediaTypeOf } from '../body.ts';
import { assertJsonDepth } from '../json-depth.ts';
import { CONTEXT_ATTRIBUTES, bad, isJsonContentType, specVersionOf, validateEvent } from './attributes.ts';
import type { CloudEvent, JsonValue } from './attributes.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

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
