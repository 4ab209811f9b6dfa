/**
 * Receipt handles of the local SQS service: opaque to callers, they name the queue, the
 * message's row and a nonce drawn for each delivery, so every receive gives a new handle
 * and a handle from an earlier delivery can be told apart from the current one.
 */
import { randomBytes } from 'node:crypto';

/** What a receipt handle stands for. */
export interface ReceiptHandle {
  readonly queueId: number;
  readonly seq: number;
  readonly nonce: string;
}

const FORMAT = /^r1:(\d{1,15}):(\d{1,15}):([A-Za-z0-9_-]{22})$/;

/** A fresh nonce for one delivery. */
export function newReceiptNonce(): string {
  return randomBytes(16).toString('base64url');
}

/** The handle a caller is given for a delivery. */
export function encodeReceiptHandle(handle: ReceiptHandle): string {
  return Buffer.from(`r1:${handle.queueId}:${handle.seq}:${handle.nonce}`, 'utf8').toString('base64url');
}

/** What a handle stands for, or undefined when it is not one this service gave out. */
export function decodeReceiptHandle(text: string): ReceiptHandle | undefined {
  if (text.length > 200 || !/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  const match = FORMAT.exec(Buffer.from(text, 'base64url').toString('utf8'));
  if (match === null) return undefined;
  return { queueId: Number(match[1]), seq: Number(match[2]), nonce: match[3] ?? '' };
}
