/**
 * Outbound URLs (CRM and ERP endpoints) come only from configuration and are
 * checked before use, so a tampered setting cannot point Harmony at the
 * instance metadata service or another internal endpoint.
 */

const METADATA_HOSTS = new Set(['169.254.169.254', '[fd00:ec2::254]', 'metadata.google.internal', 'metadata']);
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/;

/**
 * Returns the URL if it is https (or http to a loopback host, as the local sandboxes are);
 * throws naming the setting otherwise.
 */
export function checkOutboundUrl(setting: string, raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`${setting}: "${raw}" is not a URL`);
  }
  const host = url.hostname.toLowerCase();
  if (METADATA_HOSTS.has(host) || host.startsWith('169.254.') || host.startsWith('[fe80:')) {
    throw new Error(`${setting}: ${host} is a link-local or metadata address`);
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && LOOPBACK.test(host)) return url;
  throw new Error(`${setting}: must be https (http only to a loopback host), got ${url.protocol}//${host}`);
}
