/**
 * The CloudEvents spec's context attributes (0.3 and 1.0): the event's shape, the attribute types
 * (String, URI-reference, Timestamp as RFC 3339, 32-bit Integer, Boolean), naming rules for
 * extensions, and validation. Every rule an event breaks is a `BAD_EVENT` error naming the attribute.
 */
import { mediaType as mediaTypeOf } from '../body.ts';
import { TrantorError } from '../errors.ts';

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

const REQUIRED = ['id', 'source', 'type'] as const;
/** Context attributes that are not extensions, per version (specversion handled apart). */
export const CONTEXT_ATTRIBUTES: Record<CloudEventSpecVersion, ReadonlySet<string>> = {
  '1.0': new Set(['id', 'source', 'type', 'datacontenttype', 'dataschema', 'subject', 'time']),
  '0.3': new Set(['id', 'source', 'type', 'datacontenttype', 'schemaurl', 'subject', 'time', 'datacontentencoding']),
};
const ATTRIBUTE_NAME = /^[a-z0-9]+$/;
/** The spec's Integer type: a 32-bit signed integer. */
const INTEGER_MIN = -2147483648;
const INTEGER_MAX = 2147483647;
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$/;

/** A BAD_EVENT (400) error. */
export function bad(message: string): TrantorError {
  return new TrantorError('BAD_EVENT', message);
}

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

/** A specversion this implementation takes, or BAD_EVENT naming `where`. */
export function specVersionOf(value: unknown, where: string): CloudEventSpecVersion {
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

/** Whether a content type says the data is JSON (`application/json`, `text/json`, `…+json`). */
export function isJsonContentType(contentType: string | undefined): boolean {
  const type = mediaTypeOf(contentType);
  return type === 'application/json' || type === 'text/json' || type.endsWith('+json');
}

/** An extension value as text, as binary mode and filters see it. */
export function attributeText(value: CloudEventExtensionValue): string {
  return typeof value === 'string' ? value : String(value);
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
