/**
 * The WS-Security UsernameToken header (OASIS Web Services Security UsernameToken
 * Profile 1.0/1.1) with a PasswordText password, for SOAP services that authenticate
 * in the message rather than over HTTP. A fresh Nonce and Created go with every
 * request, so a service that checks them can refuse a replayed message.
 */
import { randomBytes } from 'node:crypto';
import type { XmlElementSpec } from './xml-writer.ts';

/** `wsse:` — WS-Security 1.0 secext. */
const WSSE_NAMESPACE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecext-1.0.xsd';
/** `wsu:` — WS-Security utility (Created). */
const WSU_NAMESPACE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd';
/** The `Type` of a password sent in clear text (the transport must be TLS). */
const PASSWORD_TEXT_TYPE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText';
/** The `EncodingType` of a base64 Nonce. */
const BASE64_ENCODING_TYPE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary';

/** A user name and password sent as a UsernameToken. */
export interface UsernameTokenCredentials {
  readonly username: string;
  readonly password: string;
}

/** The `wsse:Security` header block carrying a UsernameToken with a PasswordText password. */
export function usernameTokenHeader(credentials: UsernameTokenCredentials, now: Date = new Date()): XmlElementSpec {
  return {
    name: 'Security',
    prefix: 'wsse',
    namespace: WSSE_NAMESPACE,
    attributes: { 'xmlns:wsu': WSU_NAMESPACE },
    content: [
      {
        name: 'UsernameToken',
        prefix: 'wsse',
        content: [
          { name: 'Username', prefix: 'wsse', content: credentials.username },
          { name: 'Password', prefix: 'wsse', attributes: { Type: PASSWORD_TEXT_TYPE }, content: credentials.password },
          { name: 'Nonce', prefix: 'wsse', attributes: { EncodingType: BASE64_ENCODING_TYPE }, content: randomBytes(16).toString('base64') },
          { name: 'Created', prefix: 'wsu', content: now.toISOString() },
        ],
      },
    ],
  };
}
