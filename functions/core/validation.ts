/**
 * Boundary validation: turns a zod failure into a PermanentError that says what
 * was wrong and where (`body[0].occurredAt: expected number, received string`).
 */
import type * as z from 'zod';
import { PermanentError } from './errors.ts';

/** Formats zod issues as `path: message` lines, paths in JavaScript notation. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], root: string): string {
  return issues
    .slice(0, 10)
    .map((issue) => `${formatPath(root, issue.path)}: ${issue.message}`)
    .join('; ');
}

function formatPath(root: string, path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (text, key) => (typeof key === 'number' ? `${text}[${key}]` : `${text}.${String(key)}`),
    root,
  );
}

/** Parses `value` or throws a PermanentError naming the offending path under `root`. */
export function parseOrThrow<Schema extends z.ZodType>(schema: Schema, value: unknown, root: string): z.infer<Schema> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new PermanentError(`invalid ${root} — ${describeIssues(parsed.error.issues, root)}`, { code: 'validation' });
}
