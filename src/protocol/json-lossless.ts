/**
 * JSON as Python speaks it, without losing a number. Python's `json.dumps` (and so `requests`,
 * Seldon's client and Seldon's wrapper) writes `NaN`, `Infinity` and `-Infinity`, and its integers
 * have no size limit; JavaScript's JSON.parse refuses the first three and rounds an integer above
 * 2^53, and JSON.stringify turns NaN, Infinity and an overflowed `1e400` into `null`.
 *
 * Reading: the native parser does the work whenever it can. Only a text that fails it (it holds
 * NaN or Infinity) or that may hold a number a double would change (an integer part of 16 digits, or an
 * exponent of three digits) goes through the small parser below, which keeps such numbers as
 * `JsonNumber`s — their text, emitted again verbatim. Writing: JSON.stringify first; only when its
 * output holds `null` or a JsonNumber was met is the value written again by the careful writer,
 * which emits NaN and Infinity as Python does and JsonNumbers as they came. An ordinary message
 * costs one regular-expression test on the way in and one `includes` on the way out.
 */

/**
 * A number kept as its JSON text, because as a double it would change: an integer beyond 2^53, or
 * a number too large (`1e400`) or too small (`1e-400`) for a double. Arithmetic sees its nearest
 * double (`valueOf`); `stringifyJson` writes its text back unchanged.
 */
export class JsonNumber {
  readonly text: string;

  constructor(text: string) {
    this.text = text;
  }

  valueOf(): number {
    return Number(this.text);
  }

  toString(): string {
    return this.text;
  }

  /**
   * What a plain JSON.stringify writes (the nearest double, or null): the best it can do. It also
   * tells `stringifyJson` that the careful writer is needed.
   */
  toJSON(): number | null {
    metJsonNumbers++;
    const value = Number(this.text);
    return Number.isFinite(value) ? value : null;
  }
}

/** Counts JsonNumbers JSON.stringify met; `stringifyJson` compares it around one call (all synchronous). */
let metJsonNumbers = 0;

export function isJsonNumber(value: unknown): value is JsonNumber {
  return value instanceof JsonNumber;
}

/** A number, or a number kept as text: what a numeric field of a message may hold. */
export function isNumeric(value: unknown): value is number | JsonNumber {
  return typeof value === 'number' || value instanceof JsonNumber;
}

/**
 * A text that may hold a number a double would change: an integer part of 16 digits or more (2^53
 * has 16), or an exponent of three digits. Fractions are left out: Python writes a float with up to
 * 17 digits after the point, and every model's reply would otherwise take the slow parser. A number
 * token starts after a bracket, comma, colon or space, never after a letter: so a puid or an id
 * such as `c67fmzfe234…` or `id1234567890123456` (about one puid in 200 holds `e` and three digits)
 * does not send its message down the slow parser. Other false positives (numbers written inside
 * strings) only cost a slower parse.
 */
const MAY_LOSE_PRECISION = /(?:^|[^\w.])(?:\d{16}|-?\d+(?:\.\d+)?[eE][+-]?\d{3})/;

/** Whether `text` goes through the careful parser (exported for its tests). */
export function mayLosePrecision(text: string): boolean {
  return MAY_LOSE_PRECISION.test(text);
}

/**
 * Parses JSON text as Python writes it: NaN, Infinity and -Infinity are accepted (as JavaScript's
 * numbers) and numbers a double would change are kept as JsonNumbers. Throws a SyntaxError, with
 * JSON.parse's own message, when the text is not JSON even so.
 */
export function parseJsonLossless(text: string): unknown {
  if (!mayLosePrecision(text)) {
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      // NaN and Infinity fail the native parser; the careful one takes them.
      if (!mayHoldNonFinite(text)) throw err;
      return parseCarefully(text, err);
    }
  }
  return parseCarefully(text, undefined);
}

function mayHoldNonFinite(text: string): boolean {
  return text.includes('NaN') || text.includes('Infinity');
}

function parseCarefully(text: string, nativeError: unknown): unknown {
  try {
    return new LosslessParser(text).document();
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    if (nativeError instanceof Error) throw nativeError;
    // Report the native parser's wording, which users know.
    JSON.parse(text);
    throw err;
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const WHITESPACE = /[ \t\n\r]*/y;

class LosslessParser {
  private readonly text: string;
  private at = 0;

  constructor(text: string) {
    this.text = text;
  }

  document(): unknown {
    const value = this.value();
    this.skipWhitespace();
    if (this.at !== this.text.length) this.fail('unexpected text after the JSON value');
    return value;
  }

  private fail(what: string): never {
    throw new SyntaxError(`${what} at position ${this.at}`);
  }

  private skipWhitespace(): void {
    WHITESPACE.lastIndex = this.at;
    WHITESPACE.test(this.text);
    this.at = WHITESPACE.lastIndex;
  }

  private value(): unknown {
    this.skipWhitespace();
    const c = this.text.charCodeAt(this.at);
    switch (c) {
      case 0x7b: // {
        return this.object();
      case 0x5b: // [
        return this.array();
      case 0x22: // "
        return this.string();
      case 0x74: // t
        return this.word('true', true);
      case 0x66: // f
        return this.word('false', false);
      case 0x6e: // n
        return this.word('null', null);
      case 0x4e: // N
        return this.word('NaN', Number.NaN);
      case 0x49: // I
        return this.word('Infinity', Number.POSITIVE_INFINITY);
      default:
        if (c === 0x2d && this.text.startsWith('-Infinity', this.at)) return this.word('-Infinity', Number.NEGATIVE_INFINITY);
        return this.number();
    }
  }

  private word<T>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.at)) this.fail('unexpected token');
    this.at += word.length;
    return value;
  }

  private number(): number | JsonNumber {
    NUMBER.lastIndex = this.at;
    const match = NUMBER.exec(this.text);
    if (match === null) this.fail('unexpected token');
    const literal = match[0];
    this.at += literal.length;
    const value = Number(literal);
    return keepsValue(literal, value) ? value : new JsonNumber(literal);
  }

  private string(): string {
    const start = this.at;
    let i = start + 1;
    let escaped = false;
    const text = this.text;
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x5c) {
        escaped = true;
        i++;
      } else if (c === 0x22) {
        break;
      }
    }
    if (i >= text.length) this.fail('unterminated string');
    this.at = i + 1;
    const literal = text.slice(start, i + 1);
    // The native parser checks escapes and control characters; plain strings need no second look.
    return escaped || hasControl(literal) ? (JSON.parse(literal) as string) : literal.slice(1, -1);
  }

  private array(): unknown[] {
    this.at++;
    const out: unknown[] = [];
    this.skipWhitespace();
    if (this.text.charCodeAt(this.at) === 0x5d) {
      this.at++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.skipWhitespace();
      const c = this.text.charCodeAt(this.at++);
      if (c === 0x5d) return out;
      if (c !== 0x2c) {
        this.at--;
        this.fail('expected , or ] in an array');
      }
    }
  }

  private object(): Record<string, unknown> {
    this.at++;
    const out: Record<string, unknown> = {};
    this.skipWhitespace();
    if (this.text.charCodeAt(this.at) === 0x7d) {
      this.at++;
      return out;
    }
    for (;;) {
      this.skipWhitespace();
      if (this.text.charCodeAt(this.at) !== 0x22) this.fail('expected a string key in an object');
      const key = this.string();
      this.skipWhitespace();
      if (this.text.charCodeAt(this.at++) !== 0x3a) {
        this.at--;
        this.fail('expected : after an object key');
      }
      // As JSON.parse does: `__proto__` is an own property, never the prototype.
      Object.defineProperty(out, key, { value: this.value(), enumerable: true, writable: true, configurable: true });
      this.skipWhitespace();
      const c = this.text.charCodeAt(this.at++);
      if (c === 0x7d) return out;
      if (c !== 0x2c) {
        this.at--;
        this.fail('expected , or } in an object');
      }
    }
  }
}

function hasControl(literal: string): boolean {
  for (let i = 0; i < literal.length; i++) if (literal.charCodeAt(i) < 0x20) return true;
  return false;
}

/** Whether the double `value` stands for `literal`: not an unsafe integer, not overflowed, not underflowed. */
function keepsValue(literal: string, value: number): boolean {
  if (!Number.isFinite(value)) return false;
  const integer = !/[.eE]/.test(literal);
  if (integer) return Number.isSafeInteger(value);
  if (value === 0) return !/[1-9]/.test(literal.replace(/[eE].*$/, ''));
  return true;
}

/**
 * JSON text for `value`, as JSON.stringify writes it except that NaN, Infinity and -Infinity are
 * written as Python writes them and JsonNumbers as their own text.
 */
export function stringifyJson(value: unknown): string {
  const met = metJsonNumbers;
  const text = JSON.stringify(value);
  if (text === undefined) return 'null';
  if (met === metJsonNumbers && !text.includes('null')) return text;
  return writeCarefully(value, '') ?? 'null';
}

function writeCarefully(input: unknown, key: string): string | undefined {
  let value = input;
  if (value instanceof JsonNumber) return value.text;
  if (typeof value === 'object' && value !== null && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON(key: string): unknown }).toJSON(key);
  }
  switch (typeof value) {
    case 'number':
      if (Number.isFinite(value)) return String(value);
      return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    case 'object': {
      if (value === null) return 'null';
      if (value instanceof Number || value instanceof String || value instanceof Boolean) return writeCarefully(value.valueOf(), key);
      if (Array.isArray(value)) {
        const parts: string[] = [];
        for (let i = 0; i < value.length; i++) parts.push(writeCarefully(value[i], String(i)) ?? 'null');
        return `[${parts.join(',')}]`;
      }
      const parts: string[] = [];
      for (const name of Object.keys(value)) {
        const written = writeCarefully((value as Record<string, unknown>)[name], name);
        if (written !== undefined) parts.push(`${JSON.stringify(name)}:${written}`);
      }
      return `{${parts.join(',')}}`;
    }
    default:
      return undefined;
  }
}
