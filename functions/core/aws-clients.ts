/**
 * AWS SDK clients, created once per container. Region, credentials and endpoint
 * come from the SDK's own environment chain (AWS_REGION, AWS_ENDPOINT_URL…), which
 * is how the same handler talks to AWS in the cloud and to the local hub on a laptop.
 * In Lambda each call becomes an X-Ray subsegment (Powertools Tracer); elsewhere the
 * tracer is off and the clients are used as they are.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { tracer } from './observability.ts';

let documentClient: DynamoDBDocumentClient | undefined;
let eventBridgeClient: EventBridgeClient | undefined;
let stepFunctionsClient: SFNClient | undefined;
let sqsClient: SQSClient | undefined;

/** DynamoDB document client that drops undefined attributes. */
export function dynamo(): DynamoDBDocumentClient {
  documentClient ??= DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({})), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return documentClient;
}

/** EventBridge client for PutEvents on the hub bus. */
export function eventBridge(): EventBridgeClient {
  eventBridgeClient ??= tracer.captureAWSv3Client(new EventBridgeClient({}));
  return eventBridgeClient;
}

/** Step Functions client for StartExecution. */
export function stepFunctions(): SFNClient {
  stepFunctionsClient ??= tracer.captureAWSv3Client(new SFNClient({}));
  return stepFunctionsClient;
}

/** SQS client for dead-letter messages with a reason. */
export function sqs(): SQSClient {
  sqsClient ??= tracer.captureAWSv3Client(new SQSClient({}));
  return sqsClient;
}
