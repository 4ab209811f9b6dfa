/**
 * AWS SDK clients, created once per container. Region, credentials and endpoint
 * come from the SDK's own environment chain (AWS_REGION, AWS_ENDPOINT_URL…), which
 * is how the same handler talks to AWS in the cloud and to the local hub on a laptop.
 * (No X-Ray SDK capture: see observability.ts for why.)
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

let documentClient: DynamoDBDocumentClient | undefined;
let eventBridgeClient: EventBridgeClient | undefined;
let stepFunctionsClient: SFNClient | undefined;
let sqsClient: SQSClient | undefined;

/** DynamoDB document client that drops undefined attributes. */
export function dynamo(): DynamoDBDocumentClient {
  documentClient ??= DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return documentClient;
}

/** EventBridge client for PutEvents on the hub bus. */
export function eventBridge(): EventBridgeClient {
  eventBridgeClient ??= new EventBridgeClient({});
  return eventBridgeClient;
}

/** Step Functions client for StartExecution. */
export function stepFunctions(): SFNClient {
  stepFunctionsClient ??= new SFNClient({});
  return stepFunctionsClient;
}

/** SQS client for dead-letter messages with a reason. */
export function sqs(): SQSClient {
  sqsClient ??= new SQSClient({});
  return sqsClient;
}
