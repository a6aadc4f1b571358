// Kubernetes resource quantities (`500m`, `2`, `16Gi`, `1.5G`, `1e3`), as resource.Quantity parses
// them: for the manifest policy's resource caps and the operator settings that configure them.

const BINARY: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const DECIMAL: Record<string, number> = {
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

/** The quantity syntax of the Kubernetes OpenAPI schema (the pattern on resources' int-or-string). */
export const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d+|[numkMGTPE])?$/;

/** The value of a quantity (cores for CPU, bytes for memory), or undefined when it is not one. */
export function parseQuantity(quantity: unknown): number | undefined {
  if (typeof quantity === 'number') return Number.isFinite(quantity) ? quantity : undefined;
  if (typeof quantity !== 'string' || quantity.length > 64) return undefined;
  const match = QUANTITY.exec(quantity.trim());
  if (!match) return undefined;
  const value = Number(match[1]);
  const suffix = match[2] ?? '';
  const scaled =
    suffix in BINARY
      ? value * BINARY[suffix]!
      : suffix in DECIMAL
        ? value * DECIMAL[suffix]!
        : value * 10 ** Number(suffix.slice(1));
  return Number.isFinite(scaled) ? scaled : undefined;
}
