import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/** Name of the audit table's index by correlation id (one order across webhook, bus, saga and steps). */
export const AUDIT_BY_CORRELATION_ID_INDEX = 'byCorrelationId';
/** Name of the audit table's index by ERP order reference. */
export const AUDIT_BY_ORDER_REF_INDEX = 'byOrderRef';
/** TTL attribute of the idempotency table (the name Powertools idempotency writes). */
export const IDEMPOTENCY_TTL_ATTRIBUTE = 'expiration';
/** TTL attribute of the audit table. */
export const AUDIT_TTL_ATTRIBUTE = 'expiresAt';

/** Props of Harmony's DynamoDB stores. */
export interface HarmonyStoresProps {
  /** Customer managed key the tables are encrypted with. */
  readonly key: IKey;
  /**
   * Deletion protection on both tables; when on, the tables are also retained if the stack is
   * deleted. Turn off only for throwaway stacks.
   * @default true
   */
  readonly deletionProtection?: boolean;
}

/**
 * Harmony's two tables, on demand, with point-in-time recovery and KMS encryption:
 * the idempotency table (Powertools idempotency records and per-business-key claims)
 * and the audit log (every attempt, result and compensation, by business key and time).
 */
export class HarmonyStores extends Construct {
  /** Partition key `id` (string); TTL attribute `expiration`. */
  readonly idempotencyTable: Table;
  /**
   * Partition key `businessKey`, sort key `at` (ISO 8601), TTL attribute `expiresAt`;
   * indexes `byCorrelationId` (`correlationId`, `at`) and `byOrderRef` (`erpOrderRef`, `at`).
   */
  readonly auditTable: Table;

  constructor(scope: Construct, id: string, props: HarmonyStoresProps) {
    super(scope, id);
    const deletionProtection = props.deletionProtection ?? true;
    const common = {
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection,
      removalPolicy: deletionProtection ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    };

    this.idempotencyTable = new Table(this, 'IdempotencyTable', {
      ...common,
      partitionKey: { name: 'id', type: AttributeType.STRING },
      timeToLiveAttribute: IDEMPOTENCY_TTL_ATTRIBUTE,
    });

    this.auditTable = new Table(this, 'AuditTable', {
      ...common,
      partitionKey: { name: 'businessKey', type: AttributeType.STRING },
      sortKey: { name: 'at', type: AttributeType.STRING },
      timeToLiveAttribute: AUDIT_TTL_ATTRIBUTE,
    });
    this.auditTable.addGlobalSecondaryIndex({
      indexName: AUDIT_BY_CORRELATION_ID_INDEX,
      partitionKey: { name: 'correlationId', type: AttributeType.STRING },
      sortKey: { name: 'at', type: AttributeType.STRING },
      projectionType: ProjectionType.ALL,
    });
    this.auditTable.addGlobalSecondaryIndex({
      indexName: AUDIT_BY_ORDER_REF_INDEX,
      partitionKey: { name: 'erpOrderRef', type: AttributeType.STRING },
      sortKey: { name: 'at', type: AttributeType.STRING },
      projectionType: ProjectionType.ALL,
    });
  }
}
