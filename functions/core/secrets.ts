/**
 * Connector secrets: in AWS a JSON secret in Secrets Manager (read through the
 * Powertools cache, refreshed every 5 minutes so a rotated token is picked up
 * without a redeploy); locally a plain environment variable.
 */
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import * as z from 'zod';

/** Seconds a secret value is cached in the container. */
export const SECRET_CACHE_SECONDS = 300;

/** Where one secret value comes from. */
export interface SecretSource {
  /** The value itself (local mode), e.g. from HUBSPOT_ACCESS_TOKEN. */
  readonly value?: string | undefined;
  /** ARN of a JSON secret holding the value under `field` (AWS). */
  readonly secretArn?: string | undefined;
  /** Key inside the JSON secret, e.g. `accessToken`. */
  readonly field: string;
  /** The variable to name in the error when neither is set, e.g. `HUBSPOT_ACCESS_TOKEN`. */
  readonly variable: string;
}

/** Resolves a secret value, failing with a message that names what is missing. */
export async function readSecret(source: SecretSource): Promise<string> {
  if (source.value !== undefined && source.value !== '') return source.value;
  if (source.secretArn === undefined || source.secretArn === '') {
    throw new Error(`Invalid configuration — set ${source.variable} or its secret ARN`);
  }
  const secret = await getSecret(source.secretArn, { maxAge: SECRET_CACHE_SECONDS, transform: 'json' });
  const parsed = z.record(z.string(), z.unknown()).safeParse(secret);
  const value = parsed.success ? parsed.data[source.field] : undefined;
  if (typeof value !== 'string' || value === '') {
    throw new Error(`secret ${source.secretArn}: expected a JSON object with a non-empty "${source.field}" string`);
  }
  return value;
}
