/**
 * A guard against JSON nested so deep that walking it overflows the stack: V8's JSON.parse takes
 * 100,000 levels, but JSON.stringify and every recursive walk after it do not. One linear pass over
 * the text counts `[` and `{` outside strings and refuses nesting past the limit with 400
 * JSON_TOO_DEEP, before anything parses or walks it. docs/api.md documents the limit.
 */
import { TrantorError } from './errors.ts';

/** The deepest nesting of arrays and objects accepted in any JSON a client sends. */
export const MAX_JSON_DEPTH = 512;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_SQUARE = 0x5b;
const OPEN_CURLY = 0x7b;
const CLOSE_SQUARE = 0x5d;
const CLOSE_CURLY = 0x7d;

/**
 * The offset at which `text` nests deeper than `limit`, or -1 when it does not. Bytes work as well
 * as text: in UTF-8 the ASCII brackets, quote and backslash never occur inside a multi-byte character.
 */
export function depthExceededAt(text: string | Uint8Array, limit = MAX_JSON_DEPTH): number {
  // Nesting deeper than `limit` needs more than `limit` characters: short texts cost nothing.
  if (text.length <= limit) return -1;
  return typeof text === 'string' ? scanText(text, limit) : scanBytes(text, limit);
}

// Two copies of one loop, so that neither pays for a call per character.
function scanText(text: string, limit: number): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_SQUARE || c === OPEN_CURLY) {
      if (++depth > limit) return i;
    } else if ((c === CLOSE_SQUARE || c === CLOSE_CURLY) && depth > 0) depth--;
  }
  return -1;
}

function scanBytes(bytes: Uint8Array, limit: number): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_SQUARE || c === OPEN_CURLY) {
      if (++depth > limit) return i;
    } else if ((c === CLOSE_SQUARE || c === CLOSE_CURLY) && depth > 0) depth--;
  }
  return -1;
}

/** Throws JSON_TOO_DEEP when `text` nests arrays and objects deeper than `limit`. */
export function assertJsonDepth(text: string | Uint8Array, where = 'body', limit = MAX_JSON_DEPTH): void {
  const at = depthExceededAt(text, limit);
  if (at !== -1) {
    throw new TrantorError('JSON_TOO_DEEP', `${where}: JSON nests deeper than ${limit} levels of arrays and objects (at offset ${at}); flatten the data`);
  }
}
