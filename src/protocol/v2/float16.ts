/**
 * IEEE 754 half precision (FP16) to and from JavaScript numbers, exactly: every half is a double,
 * and a double becomes the nearest half, ties to even, straight from the double (going through
 * Float32 first would round twice and miss some ties). Overflow gives ±Infinity, NaN stays NaN.
 */

const TWO_POW_24 = 2 ** 24;
const TWO_POW_MINUS_14 = 2 ** -14;
/** Halfway between the largest half (65504) and 65536: from here on a value rounds to Infinity. */
const OVERFLOW = 65520;

/** The 16 bits of the half nearest `value` (ties to even). */
export function toHalfBits(value: number): number {
  if (Number.isNaN(value)) return 0x7e00;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const magnitude = Math.abs(value);
  if (magnitude >= OVERFLOW) return sign | 0x7c00;
  if (magnitude < TWO_POW_MINUS_14) {
    // Subnormal: a count of 2^-24 steps. Scaling by a power of two is exact; a count of 1024
    // is the smallest normal half, which the same bits already spell.
    return sign | roundHalfEven(magnitude * TWO_POW_24);
  }
  let exponent = Math.floor(Math.log2(magnitude));
  // log2 can be off by one next to a power of two: settle it exactly.
  if (2 ** exponent > magnitude) exponent--;
  else if (2 ** (exponent + 1) <= magnitude) exponent++;
  const mantissa = roundHalfEven((magnitude / 2 ** exponent - 1) * 1024);
  // A mantissa rounded up to 1024 carries into the exponent, which is what adding does.
  return sign | (((exponent + 15) << 10) + mantissa);
}

function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const fraction = x - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** The number a half's 16 bits stand for. */
export function fromHalfBits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa === 0 ? sign * Infinity : Number.NaN;
  return sign * (1024 + mantissa) * 2 ** (exponent - 25);
}

/** `value` as the nearest half would hold it. */
export function roundToHalf(value: number): number {
  return fromHalfBits(toHalfBits(value));
}
