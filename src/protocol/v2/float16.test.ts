import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHalfBits, roundToHalf, toHalfBits } from './float16.ts';

test('ordinary halves convert both ways', () => {
  assert.equal(toHalfBits(1), 0x3c00);
  assert.equal(toHalfBits(-2), 0xc000);
  assert.equal(toHalfBits(1.5), 0x3e00);
  assert.equal(toHalfBits(65504), 0x7bff);
  assert.equal(fromHalfBits(0x3555), 0.333251953125);
  assert.equal(fromHalfBits(0x7bff), 65504);
});

test('every one of the 65536 halves survives a round trip (NaNs stay NaN)', () => {
  for (let bits = 0; bits <= 0xffff; bits++) {
    const value = fromHalfBits(bits);
    if (Number.isNaN(value)) {
      assert.ok((bits & 0x7c00) === 0x7c00 && (bits & 0x3ff) !== 0, `bits ${bits.toString(16)}`);
      continue;
    }
    assert.equal(toHalfBits(value), bits, `bits ${bits.toString(16)}`);
  }
});

test('signed zeros, infinities and NaN', () => {
  assert.equal(toHalfBits(0), 0x0000);
  assert.equal(toHalfBits(-0), 0x8000);
  assert.ok(Object.is(fromHalfBits(0x8000), -0));
  assert.equal(toHalfBits(Infinity), 0x7c00);
  assert.equal(toHalfBits(-Infinity), 0xfc00);
  assert.equal(fromHalfBits(0xfc00), -Infinity);
  assert.equal(toHalfBits(Number.NaN), 0x7e00);
  assert.ok(Number.isNaN(fromHalfBits(0x7e01)));
});

test('subnormals: the smallest, the largest, and underflow to zero', () => {
  assert.equal(toHalfBits(2 ** -24), 0x0001);
  assert.equal(fromHalfBits(0x0001), 2 ** -24);
  assert.equal(toHalfBits(1023 * 2 ** -24), 0x03ff);
  // Half of the smallest subnormal is a tie: it goes to the even neighbour, zero.
  assert.equal(toHalfBits(2 ** -25), 0x0000);
  assert.equal(toHalfBits(2 ** -25 + 2 ** -40), 0x0001);
  assert.equal(toHalfBits(-(2 ** -26)), 0x8000);
  // 1023.5 steps: a tie between 0x03ff (odd) and 0x0400, the smallest normal.
  assert.equal(toHalfBits(1023.5 * 2 ** -24), 0x0400);
});

test('rounding is to nearest, ties to even', () => {
  // Between 1 and 1 + 2^-10 the tie 1 + 2^-11 goes to 1 (even mantissa)...
  assert.equal(toHalfBits(1 + 2 ** -11), 0x3c00);
  // ...and between 1 + 2^-10 (odd) and 1 + 2^-9 it goes up.
  assert.equal(toHalfBits(1 + 3 * 2 ** -11), 0x3c02);
  assert.equal(toHalfBits(1 + 2 ** -11 + 2 ** -30), 0x3c01);
  // A mantissa that rounds up to 1024 carries into the exponent.
  assert.equal(toHalfBits(2 - 2 ** -12), 0x4000);
  assert.equal(roundToHalf(0.1), 0.0999755859375);
});

test('overflow: below 65520 rounds to 65504, from 65520 on to Infinity', () => {
  assert.equal(toHalfBits(65519.99), 0x7bff);
  assert.equal(toHalfBits(65520), 0x7c00);
  assert.equal(toHalfBits(-1e6), 0xfc00);
});
