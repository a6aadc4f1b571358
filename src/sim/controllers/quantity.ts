/**
 * Kubernetes resource quantities (`500m`, `2`, `16Gi`, `1.5G`, `1e3`), as the API server's
 * resource.Quantity parses them. The parsing is the operator's (src/kube/quantity.ts); the sim adds
 * the API server's error and the rounding its controllers need.
 */
import { parseQuantity as parseKubeQuantity, QUANTITY } from '../../kube/quantity.ts';

/** The value of a quantity as a number; throws on text that is not a quantity. */
export function parseQuantity(quantity: string | number): number {
  if (typeof quantity === 'number') return quantity;
  const value = parseKubeQuantity(quantity);
  if (value === undefined)
    throw new Error(`quantities must match the regular expression '${QUANTITY.source}'`);
  return value;
}

/** Millicores, rounded up as Quantity.MilliValue does. */
export function cpuMillis(quantity: string | number): number {
  return Math.ceil(parseQuantity(quantity) * 1000 - 1e-9);
}

/** Bytes, rounded up as Quantity.Value does. */
export function bytes(quantity: string | number): number {
  return Math.ceil(parseQuantity(quantity) - 1e-9);
}
