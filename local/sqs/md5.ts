/**
 * The MD5 digests SQS returns with a message, computed as the SQS Developer Guide's
 * "Calculating the MD5 message digest for message attributes" describes: attributes
 * sorted by name; for each, the name, the data type and the value, each as a 4-byte
 * big-endian length and its bytes, with a 1-byte transport type (1 String, for the
 * String and Number data types; 2 Binary) before the value. Message system attributes
 * (AWSTraceHeader) are digested the same way.
 */
import { createHash } from 'node:crypto';

/** One message attribute as the JSON protocol carries it: binary values base64-encoded. */
export interface MessageAttributeValue {
  readonly DataType: string;
  readonly StringValue?: string;
  /** Base64 text of the bytes. */
  readonly BinaryValue?: string;
}

const STRING_TRANSPORT = 1;
const BINARY_TRANSPORT = 2;

/** MD5 of a message body (its UTF-8 bytes), as `MD5OfMessageBody` / `MD5OfBody`. */
export function md5OfBody(body: string): string {
  return createHash('md5').update(body, 'utf8').digest('hex');
}

/** MD5 of message (or system) attributes as SQS documents it; undefined when there are none. */
export function md5OfMessageAttributes(attributes: Readonly<Record<string, MessageAttributeValue>>): string | undefined {
  const names = Object.keys(attributes).sort();
  if (names.length === 0) return undefined;
  const hash = createHash('md5');
  for (const name of names) {
    const attribute = attributes[name];
    if (attribute === undefined) continue;
    hash.update(lengthPrefixed(Buffer.from(name, 'utf8')));
    hash.update(lengthPrefixed(Buffer.from(attribute.DataType, 'utf8')));
    if (attribute.DataType.startsWith('Binary')) {
      hash.update(Buffer.of(BINARY_TRANSPORT));
      hash.update(lengthPrefixed(Buffer.from(attribute.BinaryValue ?? '', 'base64')));
    } else {
      hash.update(Buffer.of(STRING_TRANSPORT));
      hash.update(lengthPrefixed(Buffer.from(attribute.StringValue ?? '', 'utf8')));
    }
  }
  return hash.digest('hex');
}

function lengthPrefixed(bytes: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}
