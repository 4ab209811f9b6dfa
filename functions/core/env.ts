/**
 * Reads a function's configuration from the environment once, at cold start,
 * through its zod schema. Nothing else in Harmony reads `process.env`.
 */
import type * as z from 'zod';

/**
 * Parses the environment with `schema`, or throws one error that names every
 * missing or invalid variable (`AUDIT_TABLE: required`), so a misconfigured
 * function fails at cold start instead of on its first order.
 */
export function readEnv<Schema extends z.ZodType>(
  schema: Schema,
  environment: Readonly<Record<string, string | undefined>> = process.env,
): z.infer<Schema> {
  const parsed = schema.safeParse(environment);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const name = issue.path.join('.') || '(environment)';
    // zod leaves `issue.input` out unless asked to report it: look at the variable itself.
    const value = issue.path.length === 1 ? environment[String(issue.path[0])] : undefined;
    return issue.code === 'invalid_type' && issue.path.length === 1 && value === undefined
      ? `${name}: required but not set`
      : `${name}: ${issue.message}${value === undefined ? '' : ` (got ${JSON.stringify(value.slice(0, 80))})`}`;
  });
  throw new Error(`Invalid configuration — ${problems.join('; ')}`);
}
