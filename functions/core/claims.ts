/**
 * Exclusive claims on a business effect ("the ERP order of deal X"), kept as
 * conditional writes in the idempotency table, so that two runs racing for the
 * same deal never both create an order (or two orders of one company both create its
 * customer). Items live beside Powertools'
 * idempotency records under an `claim#` id prefix.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from './aws-clients.ts';
import type { ClaimOptions, ClaimResult, ClaimStore } from './flow.ts';

/** Claims outlive the audit trail of the order they guard. */
const CLAIM_RETENTION_SECONDS = 400 * 86_400;

interface ClaimItem {
  readonly id: string;
  readonly owner: string;
  readonly released: boolean;
  readonly outcome?: Record<string, string>;
}

/** ClaimStore on a DynamoDB table whose partition key is `id` and TTL attribute `expiration`. */
export class DynamoClaimStore implements ClaimStore {
  readonly tableName: string;

  constructor(tableName: string) {
    this.tableName = tableName;
  }

  async claim(key: string, owner: string, options: ClaimOptions = {}): Promise<ClaimResult> {
    const id = `claim#${key}`;
    const nowMs = Date.now();
    const lease = options.leaseUntil === undefined
      ? { set: '', remove: ', leaseUntil', values: {} }
      : { set: ', leaseUntil = :lease', remove: '', values: { ':lease': options.leaseUntil.getTime() } };
    try {
      await dynamo().send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id },
          UpdateExpression: `SET #owner = :owner, released = :false, expiration = :expiration${lease.set} REMOVE outcome${lease.remove}`,
          // A lapsed lease without an outcome: its holder's invocation is over, and it recorded nothing.
          ConditionExpression: 'attribute_not_exists(id) OR released = :true OR (attribute_not_exists(outcome) AND leaseUntil < :now)',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: {
            ':owner': owner,
            ':false': false,
            ':true': true,
            ':now': nowMs,
            ':expiration': Math.floor(nowMs / 1000) + CLAIM_RETENTION_SECONDS,
            ...lease.values,
          },
        }),
      );
      return { owned: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    const current = await dynamo().send(
      new GetCommand({ TableName: this.tableName, Key: { id }, ConsistentRead: true }),
    );
    const item = current.Item as ClaimItem | undefined;
    if (item === undefined) return this.claim(key, owner, options);
    const outcome = item.outcome === undefined ? {} : { outcome: item.outcome };
    if (item.owner !== owner) return { owned: false, holder: item.owner, ...outcome };
    // Ours from an earlier attempt: hold it to this attempt's deadline now.
    if (options.leaseUntil !== undefined) await this.extendLease(id, owner, options.leaseUntil);
    return { owned: true, ...outcome };
  }

  private async extendLease(id: string, owner: string, leaseUntil: Date): Promise<void> {
    await dynamo().send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { id },
        UpdateExpression: 'SET leaseUntil = :lease',
        ConditionExpression: '#owner = :owner AND released = :false',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: { ':owner': owner, ':false': false, ':lease': leaseUntil.getTime() },
      }),
    );
  }

  async complete(key: string, owner: string, outcome: Readonly<Record<string, string>>): Promise<void> {
    await dynamo().send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { id: `claim#${key}` },
        UpdateExpression: 'SET outcome = :outcome',
        ConditionExpression: '#owner = :owner AND released = :false',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: { ':owner': owner, ':false': false, ':outcome': outcome },
      }),
    );
  }

  async release(key: string, owner: string): Promise<void> {
    try {
      await dynamo().send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: `claim#${key}` },
          UpdateExpression: 'SET released = :true',
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': owner, ':true': true },
        }),
      );
    } catch (error) {
      // Not ours (or already gone): nothing to give up.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}
