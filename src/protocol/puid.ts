/**
 * Seldon's request id, `puid`: made by whoever first sees a request (the gateway), carried in
 * `meta.puid` and the `Seldon-Puid` header, and checked wherever one comes in.
 */
import { randomFillSync } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const PUID_LENGTH = 26;
const pool = Buffer.allocUnsafe(PUID_LENGTH * 256);
let used = pool.length;
const scratch = Buffer.allocUnsafe(PUID_LENGTH);
const CODES = Buffer.from(ALPHABET, 'latin1');

/**
 * A new request id: 26 lower-case base-32 characters (130 random bits). Random bytes are drawn
 * from the system in blocks, so a request costs no system call.
 */
export function newPuid(): string {
  if (used + PUID_LENGTH > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  for (let i = 0; i < PUID_LENGTH; i++) scratch[i] = CODES[pool[used + i]! & 31]!;
  used += PUID_LENGTH;
  return scratch.toString('latin1', 0, PUID_LENGTH);
}

const PUID_TEXT = /^[\x21-\x7e]{1,128}$/;

/** Whether `value` can serve as a puid: 1-128 visible ASCII characters (it goes back in a header). */
export function isPuid(value: unknown): value is string {
  return typeof value === 'string' && PUID_TEXT.test(value);
}
