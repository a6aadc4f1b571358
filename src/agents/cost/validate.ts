// The cost agent's answer: a JSON list of instance suggestions, validated before it becomes a result.
import { z } from 'zod';
import { formatIssues } from '../../api/context.ts';
import { parseJson } from '../parse.ts';

/** "$1,234.50", "12 USD" and 12.5 all mean a number of dollars; anything else stays as written and fails. */
const dollars = z.preprocess((value) => {
  if (typeof value !== 'string') return value;
  const cleaned = value.replace(/usd|\$|,|\s/gi, '');
  return /^\d+(\.\d+)?$/.test(cleaned) ? Number(cleaned) : value;
}, z.number({ message: 'must be the estimated total cost in USD, as a number' }).nonnegative());

const text = (what: string) =>
  z
    .string({ message: `must be ${what}` })
    .trim()
    .min(1, { message: `must be ${what}` });

export const costEstimate = z.object({
  application: text('the application'),
  environment: text('the environment'),
  instance: text('the instance type, e.g. c2d-standard-16'),
  type: z.preprocess(
    (value) => (typeof value === 'string' ? value.trim().toLowerCase() : value),
    z.enum(['cpu', 'gpu'], { message: 'must be "cpu" or "gpu"' }),
  ),
  reason: text('the reason for the choice'),
  estimate: dollars,
});
export type CostEstimate = z.infer<typeof costEstimate>;

export const costAnswer = z.array(costEstimate).min(1, { message: 'must hold at least one suggestion' });

export type CostCheck = { ok: true; estimates: CostEstimate[] } | { ok: false; error: string };

const SHAPE =
  'Answer with one ```json block holding a list of objects with application, environment, instance, type ("cpu" or "gpu"), reason and estimate (total USD, a number).';

/**
 * Reads and validates the cost agent's answer. A lone object, or a list wrapped in an object under
 * one key, is accepted as the list it means; everything else gets an error the model can act on.
 */
export function validateCostAnswer(answer: string): CostCheck {
  const parsed = parseJson(answer);
  if (!parsed.ok) return { ok: false, error: `${parsed.error} ${SHAPE}` };
  let value = parsed.value;
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.values(value);
    value = entries.length === 1 && Array.isArray(entries[0]) ? entries[0] : [value];
  }
  const result = costAnswer.safeParse(value);
  if (result.success) return { ok: true, estimates: result.data };
  const issues = formatIssues(result.error.issues).slice(0, 8);
  return { ok: false, error: `The cost answer is not valid: ${issues.join('; ')}. ${SHAPE}` };
}
