/**
 * How Harmony's references become NetSuite keys. NetSuite's external ids may hold only
 * letters, digits, `_` and `-` and are compared case-insensitively ("Using External IDs",
 * REST web services guide), while CRM references look like `hubspot:deal:123`; and the
 * `X-NetSuite-Idempotency-Key` header must be an RFC 4122 UUID.
 */
import { createHash } from 'node:crypto';

/**
 * A NetSuite external id for `reference`, reversible and distinct for every reference even
 * when compared case-insensitively: lower-case letters, digits and `-` stay as they are,
 * every other UTF-8 byte becomes `_` and two lower-case hex digits (`hubspot:deal:7` →
 * `hubspot_3adeal_3a7`, `A` → `_41`). The output has no upper-case letter, so NetSuite's
 * case folding can never make two references meet.
 */
export function toExternalId(reference: string): string {
  let encoded = '';
  for (const character of reference) {
    if (/^[a-z0-9-]$/.test(character)) {
      encoded += character;
      continue;
    }
    for (const byte of Buffer.from(character, 'utf8')) encoded += `_${byte.toString(16).padStart(2, '0')}`;
  }
  return encoded;
}

/** The reference a {@link toExternalId} value was made from; undefined for external ids Harmony did not write. */
export function fromExternalId(externalId: string): string | undefined {
  if (!/^(?:[a-z0-9-]|_[0-9a-f]{2})*$/.test(externalId)) return undefined;
  const bytes: number[] = [];
  for (let index = 0; index < externalId.length; ) {
    if (externalId[index] === '_') {
      bytes.push(Number.parseInt(externalId.slice(index + 1, index + 3), 16));
      index += 3;
    } else {
      bytes.push(externalId.charCodeAt(index));
      index += 1;
    }
  }
  const decoded = new TextDecoder('utf-8', { fatal: true });
  try {
    const reference = decoded.decode(Uint8Array.from(bytes));
    return toExternalId(reference) === externalId ? reference : undefined;
  } catch {
    return undefined;
  }
}

/** Namespace of Harmony's name-based idempotency keys (a fixed random UUID). */
const IDEMPOTENCY_NAMESPACE = Buffer.from('6f1c2a9e4b7d4e0f8a3b5c1d2e9f7a60', 'hex');

/**
 * A name-based (version 5, SHA-1) RFC 4122 UUID for `name`: the same name gives the same
 * key on every retry and in every Lambda, so NetSuite runs the request it guards once.
 */
export function idempotencyKeyFor(name: string): string {
  const hash = createHash('sha1').update(IDEMPOTENCY_NAMESPACE).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
