/**
 * Bad values as JSON text: numbers JSON cannot hold (NaN, 1e400, 2^64+1), strings with lone
 * surrogates and control characters, wrong types, deep nesting. Written as text, not built with
 * JSON.stringify, because much of it is what JSON.stringify would never produce.
 */
import type { Prng } from './prng.ts';

export const NUMBERS = [
  '0', '-0', '1', '-1', '0.5', '1e400', '-1e400', '1e-400', '1E+308', '123456789012345678901234567890', '9007199254740993',
  '-9223372036854775809', '18446744073709551617', 'NaN', 'Infinity', '-Infinity', 'nan', '+1', '01', '1.', '.5', '0x10', '1e', '--1',
] as const;

export const STRINGS = [
  '""', '"a"', '"\\u0000"', '"\\ud800"', '"\\udfff\\ud800"', '"💥"', '"%zz"', '"%"', '"../../etc/passwd"', '"t:0"', '"\\\\"',
  '"\u0001\u001f"', '"unterminated', '"\\x41"', '"\\u12"', '"SUCCESS"', '"FAILURE"', '"COUNTER"', '"TIMER"', '"GAUGE"',
  '"__proto__"', '"constructor"', '"AAAA"', '"!!!not base64"', '"2020-13-45T99:99:99Z"',
] as const;

const SCALARS = ['null', 'true', 'false', ...NUMBERS, ...STRINGS] as const;
const KEYS = ['a', '__proto__', 'constructor', 'prototype', '', 'data', 'ndarray', 'tensor', 'shape', 'values', 'names', 'meta', 'puid', '\\u0000', 'toString'] as const;

/** A random JSON-ish value (sometimes not valid JSON at all), at most `depth` levels deep. */
export function value(p: Prng, depth = 3): string {
  const roll = p.int(10);
  if (depth <= 0 || roll < 5) return p.pick(SCALARS);
  if (roll < 8) {
    const n = p.pick([0, 1, 2, 3, 5]);
    const items: string[] = [];
    for (let i = 0; i < n; i++) items.push(value(p, depth - 1));
    return `[${items.join(',')}]`;
  }
  const n = p.pick([0, 1, 2, 3]);
  const members: string[] = [];
  for (let i = 0; i < n; i++) members.push(`"${p.pick(KEYS)}":${value(p, depth - 1)}`);
  return `{${members.join(',')}}`;
}

export function number(p: Prng): string {
  return p.pick(NUMBERS);
}

/** `depth` nested arrays or objects around `inner`. */
export function deep(p: Prng, depth: number, inner = '1'): string {
  if (p.chance(0.5)) return '['.repeat(depth) + inner + ']'.repeat(depth);
  return '{"a":'.repeat(depth) + inner + '}'.repeat(depth);
}

export const DEEP_LEVELS = [1_000, 10_000, 20_000, 100_000] as const;

/** A numeric matrix as JSON text: `rows` rows of `cols` columns, values sometimes odd. */
export function matrix(p: Prng, rows: number, cols: number): string {
  const out: string[] = [];
  for (let r = 0; r < rows; r++) {
    const row: string[] = [];
    for (let c = 0; c < cols; c++) row.push(p.chance(0.9) ? String(p.between(0, 9)) : number(p));
    out.push(`[${row.join(',')}]`);
  }
  return `[${out.join(',')}]`;
}

/** A Seldon message with wrong types, odd numbers or conflicting fields somewhere. */
export function seldonMessage(p: Prng): string {
  const v = (): string => value(p);
  const ok = '"data":{"ndarray":[[1,2,3,4]]}';
  switch (p.int(22)) {
    case 0: return `{"data":{"ndarray":${v()}}}`;
    case 1: return `{"data":{"tensor":{"shape":${v()},"values":${v()}}}}`;
    case 2: return `{"data":{"tensor":{"shape":[${number(p)},${number(p)}],"values":[1,2,3,4]}}}`;
    case 3: return `{"data":{"names":${v()},"ndarray":[[1,2]]}}`;
    case 4: return `{"data":{"tftensor":${v()}}}`;
    case 5: return `{"data":${v()}}`;
    case 6: return `{"binData":${v()}}`;
    case 7: return `{"strData":${v()}}`;
    case 8: return `{"jsonData":${v()}}`;
    case 9: return `{"meta":{"puid":${v()},"tags":${v()},"routing":${v()},"requestPath":${v()}},${ok}}`;
    case 10: return `{"meta":{"metrics":[{"key":${v()},"type":${v()},"value":${number(p)},"tags":${v()}}]},${ok}}`;
    case 11: return `{"status":${v()},${ok}}`;
    case 12: return `{${ok},"strData":"both","binData":"AAAA"}`;
    case 13: return `{"__proto__":{"polluted":1},${ok}}`;
    case 14: return `{${ok},"data":${v()}}`;
    case 15: return `{"data":{"ndarray":${matrix(p, p.between(1, 4), p.between(1, 6))}}}`;
    case 16: return `{"data":{"ndarray":[[${number(p)},${number(p)},${number(p)},${number(p)}]]}}`;
    case 17: return `{"data":{"tensor":{"shape":[1,4],"values":[${number(p)},2,3,${number(p)}]}}}`;
    case 18: return `{"data":{"ndarray":[[1,2],[3]]}}`;
    case 19: return `{"meta":{"puid":"${p.text(p.pick([0, 1, 129, 4000]))}"},${ok}}`;
    case 20: return `{${ok}`;
    default: return v();
  }
}

export function feedback(p: Prng): string {
  const part = (): string => (p.chance(0.6) ? seldonMessage(p) : value(p));
  switch (p.int(6)) {
    case 0: return `{"request":${part()},"response":${part()},"reward":${number(p)}}`;
    case 1: return `{"request":${part()},"response":{"meta":{"routing":${value(p)},"requestPath":${value(p)}},"data":{"ndarray":[[1]]}},"reward":1}`;
    case 2: return `{"reward":${value(p)},"truth":${part()}}`;
    case 3: return `{"response":{"meta":{"puid":${value(p)}}},"reward":${number(p)}}`;
    case 4: return value(p);
    default: return `{"request":${part()},"response":${part()},"reward":${value(p)},"truth":${part()}}`;
  }
}

/** Percent-encodings that do not decode (or decode to something odd). */
export const BAD_PERCENT = ['%', '%2', '%zz', '%G0', '%C3%28', '%E0%A4%A', '%ED%A0%80', '%FF', '%00', '%2F', '%2e%2e', '%5C', '%%', '%u0041', '%0D%0A'] as const;

/** Path segments that should never reach the file system or crash a router. */
export const BAD_SEGMENTS = [...BAD_PERCENT, '..', '.', '', 'a%2Fb', '%2E%2E%2F%2E%2E', 'x'.repeat(300), 'x'.repeat(5000), 'UPPER', '%C3%BC', '%20', '-', '_', ';', 'a;b=c', '%3F'] as const;
