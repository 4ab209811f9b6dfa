/**
 * Salesforce record ids: 15 case-sensitive characters (a 3-character key prefix naming the
 * object, e.g. `006` for Opportunity, then the record's number), or the same 15 followed by a
 * 3-character suffix that encodes which of them are upper case, so the 18-character form
 * survives case-insensitive systems. The suffix takes the 15 characters in three groups of
 * five; each group's upper-case positions form a 5-bit number (first character = lowest bit)
 * that indexes `A–Z0–5`. Example from the REST API guide: `001D000000IRFma` → `001D000000IRFmaIAH`.
 */
import { PermanentError } from '../../../core/errors.ts';

const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
const FIFTEEN = /^[a-zA-Z0-9]{15}$/;
const EIGHTEEN = /^[a-zA-Z0-9]{18}$/;

/** Key prefixes of the objects Harmony reads and writes. */
export const KEY_PREFIXES = {
  Account: '001',
  Contact: '003',
  Opportunity: '006',
  OpportunityLineItem: '00k',
  OpportunityContactRole: '00K',
  Product2: '01t',
  Organization: '00D',
  User: '005',
} as const;

/** The 3-character suffix of a 15-character id. */
export function idSuffix(id15: string): string {
  let suffix = '';
  for (let group = 0; group < 3; group += 1) {
    let bits = 0;
    for (let position = 0; position < 5; position += 1) {
      const character = id15.charAt(group * 5 + position);
      if (character >= 'A' && character <= 'Z') bits |= 1 << position;
    }
    suffix += SUFFIX_ALPHABET.charAt(bits);
  }
  return suffix;
}

/**
 * The 18-character form of a 15- or 18-character id; undefined when `id` is neither, or when an
 * 18-character id's suffix does not match its first 15 characters (a mistyped id).
 */
export function toEighteenCharacterId(id: string): string | undefined {
  if (FIFTEEN.test(id)) return `${id}${idSuffix(id)}`;
  if (!EIGHTEEN.test(id)) return undefined;
  const base = id.slice(0, 15);
  return id.slice(15).toUpperCase() === idSuffix(base) ? `${base}${idSuffix(base)}` : undefined;
}

/**
 * Checks a record id a caller handed in before it goes into a URL or a SOQL literal: 15 or 18
 * letters and digits, a valid suffix, and the key prefix of `objectName`. Returns the
 * 18-character form; throws a PermanentError that names the id otherwise.
 */
export function requireRecordId(id: string, objectName: keyof typeof KEY_PREFIXES): string {
  const normalized = toEighteenCharacterId(id);
  if (normalized === undefined) {
    throw new PermanentError(`salesforce: ${objectName} id must be a 15- or 18-character Salesforce id, got ${JSON.stringify(id.slice(0, 40))}`, {
      system: 'salesforce',
      code: 'invalid_id',
    });
  }
  const prefix = KEY_PREFIXES[objectName];
  if (!normalized.startsWith(prefix)) {
    throw new PermanentError(`salesforce: ${JSON.stringify(id)} is not an ${objectName} id (${objectName} ids start with ${prefix})`, {
      system: 'salesforce',
      code: 'invalid_id',
    });
  }
  return normalized;
}
