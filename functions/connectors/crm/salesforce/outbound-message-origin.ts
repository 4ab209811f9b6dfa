/**
 * Whether an outbound message comes from the org this deployment serves. Outbound messages
 * carry no signature; Salesforce's "Considerations for Security" names the two checks a
 * listener has: the OrganizationId in every message, and the source address against the
 * IP ranges Salesforce publishes (which proves Salesforce sent it, not which customer).
 */
import { BlockList, isIP } from 'node:net';
import { toEighteenCharacterId } from './record-id.ts';

/**
 * Reads the configured org id (15 or 18 characters, `00D…`) into its 18-character form.
 * Throws naming `variable` when it is not an org id, so a mistyped setting stops the cold start.
 */
export function readOrganizationId(variable: string, value: string): string {
  const normalized = toEighteenCharacterId(value.trim());
  if (normalized === undefined || !normalized.startsWith('00D')) {
    throw new Error(`Invalid configuration — ${variable}: expected a 15- or 18-character organization id starting 00D, got ${JSON.stringify(value.slice(0, 40))}`);
  }
  return normalized;
}

/**
 * True when `received` names the same org as `configured`. Ids are case-sensitive in their
 * first 15 characters; the 18-character form only adds a checksum of their case, so those 15
 * decide, compared exactly.
 */
export function isSameOrganization(configured: string, received: string): boolean {
  return configured.length >= 15 && received.length >= 15 && configured.slice(0, 15) === received.slice(0, 15);
}

/** The source addresses a deployment accepts outbound messages from. */
export interface AllowedSenders {
  /** The ranges as configured, for messages. */
  readonly ranges: readonly string[];
  /** True when `address` (IPv4, IPv6, or IPv4-mapped IPv6) is in one of the ranges. */
  allows(address: string | undefined): boolean;
}

/**
 * Reads a list of CIDR ranges (`13.108.0.0/14 2a01:111::/32`, separated by spaces or commas; a
 * bare address is a range of one). Throws naming `variable` and the entry that is not a range.
 */
export function readAllowedSenders(variable: string, value: string): AllowedSenders {
  const ranges = value.split(/[\s,]+/).filter((entry) => entry !== '');
  if (ranges.length === 0) throw new Error(`Invalid configuration — ${variable}: names no CIDR range`);
  const list = new BlockList();
  for (const range of ranges) {
    const match = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(range);
    const family = match === null ? 0 : isIP(match[1]!);
    const bits = family === 4 ? 32 : 128;
    const prefix = match?.[2] === undefined ? bits : Number(match[2]);
    if (match === null || family === 0 || prefix > bits) {
      throw new Error(`Invalid configuration — ${variable}: ${JSON.stringify(range.slice(0, 60))} is not an IPv4 or IPv6 CIDR range such as 13.108.0.0/14 or 2a01:111::/32`);
    }
    list.addSubnet(match[1]!, prefix, family === 4 ? 'ipv4' : 'ipv6');
  }
  return {
    ranges,
    allows(address) {
      const candidate = normalizeAddress(address);
      if (candidate === undefined) return false;
      return list.check(candidate.address, candidate.family);
    },
  };
}

/** The address as BlockList checks it: zone id dropped, an IPv4-mapped IPv6 address as IPv4. */
function normalizeAddress(address: string | undefined): { address: string; family: 'ipv4' | 'ipv6' } | undefined {
  if (address === undefined) return undefined;
  const bare = address.trim().replace(/%[^%]*$/, '');
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(bare);
  const candidate = mapped === null ? bare : mapped[1]!;
  const family = isIP(candidate);
  if (family === 0) return undefined;
  return { address: candidate, family: family === 4 ? 'ipv4' : 'ipv6' };
}
