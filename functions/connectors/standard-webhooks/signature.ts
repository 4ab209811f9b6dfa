/**
 * Standard Webhooks signatures (symmetric scheme): `webhook-signature` is a space-separated
 * list of `v1,<base64 HMAC-SHA256>` over `{webhook-id}.{webhook-timestamp}.{body}`, keyed
 * with the base64-decoded part of a `whsec_` secret. Any one match passes, so a sender can
 * sign with an old and a new secret while it rotates them, and a receiver can hold both.
 *
 * Source: the specification, github.com/standard-webhooks/standard-webhooks
 * spec/standard-webhooks.md ("Signature scheme", "Webhook headers", "Verifying signatures"),
 * and the reference libraries' tests (libraries/javascript/src/webhook.test.ts,
 * libraries/go/webhook_test.go) for the test vectors.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** How far `webhook-timestamp` may be from now, either side: the spec's libraries use five minutes. */
export const STANDARD_WEBHOOK_TOLERANCE_SECONDS = 5 * 60;

const SECRET_PREFIX = 'whsec_';
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A signing secret, decoded. */
export interface SigningSecret {
  readonly key: Buffer;
}

/**
 * Parses `STANDARD_WEBHOOKS_SECRET`: one or more `whsec_<base64>` secrets separated by
 * whitespace. Throws naming the setting and the position of a malformed one (never its value).
 */
export function parseSigningSecrets(setting: string, value: string): SigningSecret[] {
  const parts = value.trim().split(/\s+/).filter((part) => part !== '');
  if (parts.length === 0) throw new Error(`${setting}: expected one or more whsec_ secrets separated by spaces`);
  return parts.map((part, index) => {
    const encoded = part.startsWith(SECRET_PREFIX) ? part.slice(SECRET_PREFIX.length) : undefined;
    if (encoded === undefined || encoded === '' || !STRICT_BASE64.test(encoded)) {
      throw new Error(`${setting}: secret ${index + 1} of ${parts.length} is not whsec_ followed by base64`);
    }
    return { key: Buffer.from(encoded, 'base64') };
  });
}

/** The `v1,<base64>` signature of one message with one secret. */
export function standardWebhookSignature(input: {
  readonly id: string;
  readonly timestamp: string;
  readonly body: string;
  readonly secret: SigningSecret;
}): string {
  const mac = createHmac('sha256', input.secret.key).update(`${input.id}.${input.timestamp}.${input.body}`, 'utf8');
  return `v1,${mac.digest('base64')}`;
}

/** Why a delivery failed the check. */
export type StandardWebhookFailure =
  | 'missing-id'
  | 'invalid-id'
  | 'missing-timestamp'
  | 'invalid-timestamp'
  | 'stale-timestamp'
  | 'future-timestamp'
  | 'missing-signature'
  | 'no-matching-signature';

/** Everything a check needs from one delivery. */
export interface StandardWebhookInput {
  readonly id: string | undefined;
  readonly timestamp: string | undefined;
  readonly signature: string | undefined;
  /** The raw body, exactly as received. */
  readonly body: string;
  readonly secrets: readonly SigningSecret[];
  readonly now: Date;
}

/**
 * Checks the three `webhook-*` headers. The id must be printable ASCII without `.` (the spec
 * asks that ids and timestamps hold none, so the signed content cannot be re-split), the
 * timestamp integer seconds within the tolerance, and one `v1` signature must match one
 * secret, compared in constant time; signatures of other schemes (`v1a`…) are skipped.
 */
export function verifyStandardWebhook(input: StandardWebhookInput): StandardWebhookFailure | undefined {
  const id = input.id?.trim();
  if (id === undefined || id === '') return 'missing-id';
  if (!/^[\x21-\x2d\x2f-\x7e]{1,256}$/.test(id)) return 'invalid-id';
  const timestamp = input.timestamp?.trim();
  if (timestamp === undefined || timestamp === '') return 'missing-timestamp';
  if (!/^\d{1,12}$/.test(timestamp)) return 'invalid-timestamp';
  const age = Math.floor(input.now.getTime() / 1000) - Number(timestamp);
  if (age > STANDARD_WEBHOOK_TOLERANCE_SECONDS) return 'stale-timestamp';
  if (age < -STANDARD_WEBHOOK_TOLERANCE_SECONDS) return 'future-timestamp';
  const header = input.signature?.trim();
  if (header === undefined || header === '') return 'missing-signature';
  const offered = header
    .split(' ')
    .filter((entry) => entry.startsWith('v1,'))
    .map((entry) => Buffer.from(entry, 'utf8'));
  for (const secret of input.secrets) {
    const expected = Buffer.from(standardWebhookSignature({ id, timestamp, body: input.body, secret }), 'utf8');
    // Every offered signature is compared, matched or not, so the time taken says nothing about which matched.
    let matched = false;
    for (const candidate of offered) {
      if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) matched = true;
    }
    if (matched) return undefined;
  }
  return 'no-matching-signature';
}
