/**
 * The audit log: one DynamoDB item per thing that happened to an order — webhook
 * accepted, saga started, every step attempt and compensation with its outcome —
 * filed under the business key and findable by correlation id or ERP order number.
 * Records hold ids, outcomes and error messages, never customer personal data.
 */
import { BatchWriteCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from './aws-clients.ts';

/** What kind of thing an audit record is about. */
export type AuditKind = 'webhook' | 'start' | 'step' | 'compensation' | 'dead-letter';

/** One audit record as stored. */
export interface AuditRecord {
  /** Partition key, e.g. `deal:hubspot:123:456`. */
  readonly businessKey: string;
  /** Sort key: ISO time, then a discriminator so records at the same millisecond never collide. */
  readonly at: string;
  readonly correlationId: string;
  readonly kind: AuditKind;
  /** Flow name, e.g. `order-to-cash`, where there is one. */
  readonly flow?: string;
  /** Step or compensation name, or `WebhookAccepted`, `SagaStarted`… */
  readonly action: string;
  readonly outcome: 'succeeded' | 'failed' | 'duplicate' | 'rejected';
  readonly executionName?: string;
  /** Step Functions retry count of this attempt (0 = first). */
  readonly attempt?: number;
  readonly durationMs?: number;
  readonly error?: string;
  /** The ERP order number, indexed by `byOrderRef`. */
  readonly erpOrderRef?: string;
  /** Step-specific facts (customer created, matched by, order id…). */
  readonly facts?: Readonly<Record<string, string | number | boolean>>;
  /** Epoch seconds after which DynamoDB may expire the record. */
  readonly expiresAt?: number;
}

/** Audit records are kept for 400 days by default: a business year plus slack. */
export const AUDIT_RETENTION_DAYS = 400;

/** Everything but the keys DynamoDB needs; `at` defaults to now. */
export type AuditEntry = Omit<AuditRecord, 'at' | 'expiresAt' | 'facts'> & {
  readonly at?: Date;
  /** Facts with undefined values are dropped. */
  readonly facts?: Readonly<Record<string, string | number | boolean | undefined>>;
};

function toRecord(entry: AuditEntry): AuditRecord {
  const at = entry.at ?? new Date();
  const discriminator = [entry.executionName, entry.action, entry.attempt]
    .filter((part) => part !== undefined)
    .join('#');
  const { facts: rawFacts, at: _at, ...rest } = entry;
  const facts = rawFacts === undefined ? undefined : cleanFacts(rawFacts);
  return {
    ...rest,
    at: `${at.toISOString()}#${discriminator}`,
    ...(facts === undefined ? {} : { facts }),
    expiresAt: Math.floor(at.getTime() / 1000) + AUDIT_RETENTION_DAYS * 86_400,
  };
}

function cleanFacts(
  facts: Readonly<Record<string, string | number | boolean | undefined>>,
): Record<string, string | number | boolean> | undefined {
  const entries = Object.entries(facts).filter(
    (entry): entry is [string, string | number | boolean] => entry[1] !== undefined,
  );
  return entries.length === 0 ? undefined : Object.fromEntries(entries);
}

/** Writes audit records to one table. */
export class AuditLog {
  readonly tableName: string;

  constructor(tableName: string) {
    this.tableName = tableName;
  }

  /** Writes one record. Throws on failure: an unaudited ERP write is not acceptable. */
  async record(entry: AuditEntry): Promise<AuditRecord> {
    const item = toRecord(entry);
    await dynamo().send(new PutCommand({ TableName: this.tableName, Item: item }));
    return item;
  }

  /** Writes many records, 25 per request, retrying unprocessed items. */
  async recordAll(entries: readonly AuditEntry[]): Promise<void> {
    const items = entries.map(toRecord);
    for (let start = 0; start < items.length; start += 25) {
      let requests = items.slice(start, start + 25).map((Item) => ({ PutRequest: { Item } }));
      for (let round = 0; requests.length > 0; round += 1) {
        if (round === 8) throw new Error(`audit: ${requests.length} records still unprocessed after 8 rounds`);
        if (round > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** round));
        const result = await dynamo().send(
          new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }),
        );
        requests = (result.UnprocessedItems?.[this.tableName] ?? []) as typeof requests;
      }
    }
  }

  /** Every record of one business key, oldest first. */
  async forBusinessKey(businessKey: string): Promise<AuditRecord[]> {
    const records: AuditRecord[] = [];
    let cursor: Record<string, unknown> | undefined;
    do {
      const page = await dynamo().send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'businessKey = :key',
          ExpressionAttributeValues: { ':key': businessKey },
          ExclusiveStartKey: cursor,
        }),
      );
      records.push(...((page.Items ?? []) as AuditRecord[]));
      cursor = page.LastEvaluatedKey;
    } while (cursor !== undefined);
    return records;
  }
}
