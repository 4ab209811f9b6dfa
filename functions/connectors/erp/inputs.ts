/**
 * What every ERP adapter checks before it calls its ERP: the party and the sales order
 * draft the saga hands it, as zod schemas, and the check that turns a bad one into a
 * PermanentError naming each field (`draft.lines.0.sku: …`), so the saga compensates
 * instead of retrying input that can never succeed. Adapters narrow the parts their ERP
 * constrains (the shape of a customer id, field lengths) and keep the rest as here.
 */
import * as z from 'zod';
import { PermanentError } from '../../core/errors.ts';

/** A party (the CRM's company or person) as an ERP adapter needs it. */
export const PartyInput = z.object({
  externalId: z.string().trim().min(1),
  name: z.string().trim().min(1),
  kind: z.enum(['company', 'person']),
  email: z.string().optional(),
  vatNumber: z.string().optional(),
});

/** The parts of a draft an ERP constrains beyond the common rules. */
export interface DraftConstraints {
  /** The ERP's customer id, e.g. a positive integer as text or a GUID. */
  readonly customerId: z.ZodType<string>;
  /** @default a non-blank string */
  readonly externalRef?: z.ZodType<string>;
  /** @default a non-blank string */
  readonly sku?: z.ZodType<string>;
  /** @default a number above 0 */
  readonly quantity?: z.ZodType<number>;
  /** @default a number of 0 or more */
  readonly unitPrice?: z.ZodType<number>;
}

/** The sales order draft schema for one ERP. */
export function draftInput(constraints: DraftConstraints) {
  return z.object({
    externalRef: constraints.externalRef ?? z.string().trim().min(1),
    customerId: constraints.customerId,
    currency: z.string().regex(/^[A-Z]{3}$/, 'expected an ISO 4217 code such as "EUR"'),
    lines: z
      .array(
        z.object({
          sku: constraints.sku ?? z.string().trim().min(1),
          name: z.string(),
          quantity: constraints.quantity ?? z.number().positive(),
          unitPrice: constraints.unitPrice ?? z.number().nonnegative(),
          discountPercent: z.number().min(0).max(100).optional(),
        }),
      )
      .min(1, 'a sales order needs at least one line'),
    note: z.string().optional(),
  });
}

/** Who validates: the ERP as messages name it (`NetSuite`) and as errors carry it (`netsuite`). */
export interface InputOwner {
  readonly vendor: string;
  readonly system: string;
}

/**
 * `value` parsed by `schema`, or a PermanentError (`invalid-input`) naming every field that
 * failed, e.g. `Invalid draft for NetSuite — draft.currency: expected an ISO 4217 code…`.
 */
export function validateInput<Schema extends z.ZodType>(schema: Schema, value: unknown, what: string, owner: InputOwner): z.infer<Schema> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => `${[what, ...issue.path.map(String)].join('.')}: ${issue.message}`);
  throw new PermanentError(`Invalid ${what} for ${owner.vendor} — ${issues.join('; ')}`, { system: owner.system, code: 'invalid-input' });
}

/** `validateInput` for one ERP: `const validate = inputValidator({ vendor: 'Odoo', system: 'odoo' })`. */
export function inputValidator(owner: InputOwner): <Schema extends z.ZodType>(schema: Schema, value: unknown, what: string) => z.infer<Schema> {
  return (schema, value, what) => validateInput(schema, value, what, owner);
}
