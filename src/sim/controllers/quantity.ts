/**
 * Kubernetes resource quantities (`500m`, `2`, `16Gi`, `1.5G`, `1e3`), as the API server's
 * resource.Quantity parses them.
 */
const binarySuffixes: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const decimalSuffixes: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

const quantityPattern = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d+|[numkMGTPE])?$/;

/** The value of a quantity as a number; throws on text that is not a quantity. */
export function parseQuantity(quantity: string | number): number {
  if (typeof quantity === 'number') return quantity;
  const match = quantityPattern.exec(quantity.trim());
  if (!match) throw new Error(`quantities must match the regular expression '${quantityPattern.source}'`);
  const value = Number(match[1]);
  const suffix = match[2] ?? '';
  if (suffix in binarySuffixes) return value * binarySuffixes[suffix]!;
  if (suffix in decimalSuffixes) return value * decimalSuffixes[suffix]!;
  return value * 10 ** Number(suffix.slice(1));
}

/** Millicores, rounded up as Quantity.MilliValue does. */
export function cpuMillis(quantity: string | number): number {
  return Math.ceil(parseQuantity(quantity) * 1000 - 1e-9);
}

/** Bytes, rounded up as Quantity.Value does. */
export function bytes(quantity: string | number): number {
  return Math.ceil(parseQuantity(quantity) - 1e-9);
}
