/** IEEE 754 binary16 conversions: Node 20 has neither Float16Array nor DataView.getFloat16. */

/** The value of a half-precision bit pattern; exact, since every half is representable as a double. */
export function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24; // zero and subnormals
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1024 + mantissa) * 2 ** (exponent - 25);
}

const scratch = new DataView(new ArrayBuffer(8));

function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const rest = x - floor;
  if (rest > 0.5) return floor + 1;
  if (rest < 0.5) return floor;
  return floor + (floor % 2);
}

/**
 * The half-precision bit pattern nearest to `value`, ties to even — what NumPy's `astype(float16)` gives for a
 * float32 or float64 input (rounding straight from the double avoids double rounding). NaN becomes the quiet
 * NaN 0x7e00: JS cannot see NaN payloads reliably.
 */
export function numberToHalf(value: number): number {
  if (Number.isNaN(value)) return 0x7e00;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const abs = Math.abs(value);
  // 65520 is halfway between the largest half (65504) and 2^16; the tie goes to the even neighbour, infinity
  if (abs >= 65520) return sign | 0x7c00;
  // subnormals are multiples of 2^-24; a result of 1024 carries into the smallest normal, which is correct
  if (abs < 2 ** -14) return sign | roundHalfEven(abs * 2 ** 24);
  scratch.setFloat64(0, abs);
  const exponent = ((scratch.getUint32(0) >>> 20) & 0x7ff) - 1023;
  const mantissa = roundHalfEven((abs / 2 ** exponent - 1) * 1024);
  // a mantissa that rounds up to 1024 carries into the exponent through the addition
  return sign | (((exponent + 15) << 10) + mantissa);
}

/** Rounds a number to the nearest half-precision value (returned as a number). */
export function roundToHalf(value: number): number {
  return halfToNumber(numberToHalf(value));
}
