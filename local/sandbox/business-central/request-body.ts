/**
 * Request bodies checked the way BC's OData layer checks them: a property the entity
 * type does not have is a 400 naming it, a text longer than its field is BC's
 * Application_StringExceededLength, a value of the wrong type is "Invalid Request Body".
 */
import * as z from 'zod';
import { bcError, type SandboxAnswer } from './responses.ts';

/** The parsed body, or the error answer BC would give. */
export type ParsedBody<Data> = { readonly ok: true; readonly data: Data } | { readonly ok: false; readonly answer: SandboxAnswer };

/** A Text/Code field of `length` characters (BC counts characters). */
export function text(length: number) {
  return z.string().max(length);
}

/** Validates `body` against a strict object schema for `entityType` (e.g. `customer`). */
export function parseBody<Schema extends z.ZodType>(schema: Schema, body: unknown, entityType: string): ParsedBody<z.infer<Schema>> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, answer: bcError(400, 'BadRequest', 'Invalid Request Body') };
  }
  const parsed = schema.safeParse(body);
  if (parsed.success) return { ok: true, data: parsed.data };
  const issue = parsed.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    return {
      ok: false,
      answer: bcError(400, 'BadRequest', `The property '${issue.keys[0]}' does not exist on type 'Microsoft.NAV.${entityType}'. Make sure to only use property names that are defined by the type.`),
    };
  }
  if (issue.code === 'too_big' && issue.origin === 'string') {
    const value = issue.path.reduce<unknown>((node, key) => (node as Record<PropertyKey, unknown>)?.[key as PropertyKey], body);
    return {
      ok: false,
      answer: bcError(400, 'Application_StringExceededLength', `The length of the string is ${String(value).length}, but it must be less than or equal to ${String(issue.maximum)} characters. Value: ${String(value)}`),
    };
  }
  return { ok: false, answer: bcError(400, 'BadRequest', `Invalid Request Body (${issue.path.join('.')}: ${issue.message})`) };
}
