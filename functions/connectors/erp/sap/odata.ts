/**
 * SAP Gateway's OData v2 JSON, as the A2X services (API_SALES_ORDER_SRV,
 * API_BUSINESS_PARTNER) speak it: an entity under `d`, a collection under `d.results`
 * (with `__count` for `$inlinecount=allpages` and `__next` when the server pages),
 * decimals as strings, `/Date(ms)/` and `/Date(ms+0000)/` timestamps, `'` doubled in
 * string literals, and the error body
 * `{"error":{"code","message":{"lang","value"},"innererror":{…,"errordetails":[…]}}}`.
 */
import * as z from 'zod';

/** The system name in errors, events and the rate budget. */
export const SAP_SYSTEM = 'sap';

/** An entity answer: `{"d":{…}}`. */
export function odataEntity<Entity extends z.ZodType>(entity: Entity) {
  return z.object({ d: entity });
}

/** A collection answer: `{"d":{"results":[…],"__count"?,"__next"?}}`. */
export function odataCollection<Item extends z.ZodType>(item: Item) {
  return z.object({
    d: z.object({
      results: z.array(item),
      __count: z.string().regex(/^\d+$/).optional(),
      __next: z.string().optional(),
    }),
  });
}

/** An expanded to-many navigation property: `{"results":[…]}`. */
export function expanded<Item extends z.ZodType>(item: Item) {
  return z.object({ results: z.array(item) });
}

/** `Edm.Decimal` as Gateway sends it (a string such as `"1234.50"`), read as a number. */
export const SapDecimal = z
  .string()
  .regex(/^-?\d+(\.\d+)?$/, 'expected an Edm.Decimal string such as "12.50"')
  .transform(Number);

/** `__metadata` of an entity; `etag` only on types with a concurrency token (A_SalesOrder). */
export const EntityMetadata = z.object({ uri: z.string().optional(), type: z.string().optional(), etag: z.string().optional() });

/** An OData v2 string literal: `'…'` with `'` doubled. */
export function odataString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** A key predicate segment, e.g. `A_SalesOrder('4711')` or `A_SalesOrderItem(SalesOrder='4711',SalesOrderItem='10')`. */
export function entityPath(entitySet: string, key: string | Readonly<Record<string, string>>): string {
  const literal = (value: string): string => encodeURIComponent(odataString(value));
  const predicate = typeof key === 'string'
    ? literal(key)
    : Object.entries(key).map(([name, value]) => `${name}=${literal(value)}`).join(',');
  return `${entitySet}(${predicate})`;
}

/**
 * A number as an `Edm.Decimal` string with at most `scale` decimals and no exponent;
 * undefined when the number needs more decimals than the property holds (SAP would round).
 */
export function decimalText(value: number, scale: number): string | undefined {
  if (!Number.isFinite(value)) return undefined;
  const fixed = value.toFixed(scale);
  if (Math.abs(Number(fixed) - value) > 1e-9 * Math.max(1, Math.abs(value))) return undefined;
  return fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
}

/** `/Date(1683923430388)/` or `/Date(1683923430388+0000)/` as epoch milliseconds, undefined when it is neither. */
export function parseSapDate(text: string): number | undefined {
  const match = /^\/Date\((-?\d+)([+-]\d{4})?\)\/$/.exec(text);
  return match === null ? undefined : Number(match[1]);
}

const ErrorDetail = z.object({ code: z.string().optional(), message: z.string(), severity: z.string().optional() });

/** Gateway's error body (JSON); `innererror.errordetails` lists every message of the failed call. */
export const SapErrorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.object({ lang: z.string().optional(), value: z.string() }),
    innererror: z.object({ errordetails: z.array(ErrorDetail).optional() }).loose().optional(),
  }),
});
export type SapErrorBody = z.infer<typeof SapErrorBody>;

/** SAP's error body, parsed; undefined when the text is not one (an HTML logon page, a plain-text CSRF refusal). */
export function readSapError(text: string): SapErrorBody | undefined {
  try {
    const parsed = SapErrorBody.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `code: message` from SAP's error body, followed by the other error-severity details
 * (a rejected deep insert names the failing item there); else the text's start.
 */
export function describeSapFailure(_status: number, text: string): string {
  const body = readSapError(text);
  if (body === undefined) return text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 300);
  const main = body.error.message.value.trim();
  const details = (body.error.innererror?.errordetails ?? [])
    .filter((detail) => (detail.severity ?? 'error') === 'error' && detail.message.trim() !== main && !/^An exception was raised/i.test(detail.message))
    .map((detail) => detail.message.trim());
  return [`${body.error.code}: ${main}`, ...new Set(details)].join('; ');
}
