/**
 * cdk-nag (AwsSolutions) findings Harmony accepts, each with its reason, applied to the one
 * resource it concerns. cdk-nag v3 reads these through CDK's `Validations.of(x).acknowledge`;
 * IAM5 findings are acknowledged one wildcard at a time (`AwsSolutions-IAM5[Resource::*]`).
 */
import { Validations } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';

/** The managed policy every Lambda role gets from CDK for writing its logs. */
const BASIC_EXECUTION_POLICY = 'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole';

/**
 * Acknowledges what every `HarmonyFunction` role carries by construction: the AWS managed
 * basic execution policy (CloudWatch Logs only) and X-Ray's `Resource: *`, which X-Ray
 * requires because `PutTraceSegments`/`PutTelemetryRecords` have no resource-level permissions.
 * The infrastructure test checks that every `Resource: *` statement holds X-Ray actions only.
 */
export function acknowledgeHarmonyFunctionBaseline(fn: IFunction): void {
  const role = fn.role;
  if (role === undefined) throw new Error(`${fn.node.path}: function has no role to acknowledge findings on`);
  Validations.of(role).acknowledge(
    {
      id: `AwsSolutions-IAM4[${BASIC_EXECUTION_POLICY}]`,
      reason:
        'AWSLambdaBasicExecutionRole grants only logs:CreateLogGroup/CreateLogStream/PutLogEvents; ' +
        'the function writes to its own retained, KMS-encrypted log group.',
    },
    {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) supports no resource-level ' +
        'permissions, so AWS requires Resource "*"; no other statement of this role uses "*".',
    },
  );
}

/**
 * Acknowledges the KMS action wildcards CDK's intent grants (`grantReadWriteData`,
 * `grantSendMessages`, …) add for a customer managed key: `kms:GenerateDataKey*` and
 * `kms:ReEncrypt*`, scoped to that one key's ARN.
 */
export function acknowledgeKeyGrantActions(scope: IConstruct): void {
  const reason =
    'Added by CDK grant methods for the customer managed data key; the resource is that single key ' +
    'ARN, and the wildcard covers only the variants of one KMS operation (…WithoutPlaintext, …Pair).';
  Validations.of(scope).acknowledge(
    { id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]', reason },
    { id: 'AwsSolutions-IAM5[Action::kms:ReEncrypt*]', reason },
  );
}

/**
 * Acknowledges the `<table ARN>/index/*` resource CDK's table grants add when a table has
 * secondary indexes: access covers that table's own indexes and nothing else.
 */
export function acknowledgeTableIndexGrant(scope: IConstruct, tableLogicalId: string): void {
  Validations.of(scope).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${tableLogicalId}.Arn>/index/*]`,
    reason: "Added by CDK's table grant: the wildcard covers only this table's own secondary indexes.",
  });
}

/**
 * Acknowledges that a connector secret has no rotation Lambda: its value is issued by the
 * vendor (HubSpot private app token and client secret, Odoo API key, Slack webhook URL) and can
 * only be rotated in the vendor's console, after which the operator puts the new value.
 */
export function acknowledgeVendorIssuedSecret(secret: IConstruct): void {
  Validations.of(secret).acknowledge({
    id: 'AwsSolutions-SMG4',
    reason:
      'Vendor-issued credential (HubSpot, Odoo, Slack) that only the vendor can rotate; the operator rotates ' +
      'it in the vendor console and puts the new value, so a Secrets Manager rotation Lambda has nothing to call.',
  });
}
