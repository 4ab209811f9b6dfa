/**
 * Exclusive claims on a business effect ("the ERP order of deal X"), kept as
 * conditional writes in the idempotency table, so that two runs racing for the
 * same deal never both create an order. Items live beside Powertools'
 * idempotency records under an `claim#` id prefix.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from './aws-clients.ts';
import type { ClaimResult, ClaimStore } from './flow.ts';

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

  async claim(key: string, owner: string): Promise<ClaimResult> {
    const id = `claim#${key}`;
    try {
      await dynamo().send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id },
          UpdateExpression: 'SET #owner = :owner, released = :false, expiration = :expiration REMOVE outcome',
          ConditionExpression: 'attribute_not_exists(id) OR released = :true',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: {
            ':owner': owner,
            ':false': false,
            ':true': true,
            ':expiration': Math.floor(Date.now() / 1000) + CLAIM_RETENTION_SECONDS,
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
    if (item === undefined) return this.claim(key, owner);
    const outcome = item.outcome === undefined ? {} : { outcome: item.outcome };
    return item.owner === owner ? { owned: true, ...outcome } : { owned: false, holder: item.owner, ...outcome };
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
