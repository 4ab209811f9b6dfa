/**
 * The contract between the local hub's AWS-compatible endpoint and the services
 * behind it (EventBridge, Step Functions, and proxies to dynalite and fauxqs):
 * an operation name and its JSON input in, JSON out, or an AwsServiceError that
 * the endpoint renders exactly as AWS's JSON protocols do, so SDK v3 clients and
 * the AWS CLI parse it into their own exception classes.
 */

/** An error an AWS API returns, e.g. `ExecutionAlreadyExists` with status 400. */
export class AwsServiceError extends Error {
  /** The error code without namespace, e.g. `ResourceNotFoundException`. */
  readonly type: string;
  readonly statusCode: number;

  constructor(type: string, message: string, statusCode = 400) {
    super(message);
    this.name = type;
    this.type = type;
    this.statusCode = statusCode;
  }
}

/** A service that speaks AWS's JSON protocol (awsJson1_0 / awsJson1_1) behind the endpoint. */
export interface JsonProtocolService {
  /** The X-Amz-Target prefix it answers, e.g. `AWSEvents` or `AWSStepFunctions`. */
  readonly targetPrefix: string;
  /** Content type of its responses: `application/x-amz-json-1.0` or `-1.1`. */
  readonly contentType: string;
  /** Runs one operation (the part of X-Amz-Target after the dot) with its parsed JSON input. */
  handle(operation: string, input: Readonly<Record<string, unknown>>): Promise<unknown>;
}

/** The error every service throws for an operation it does not serve. */
export function unknownOperation(service: string, operation: string): AwsServiceError {
  return new AwsServiceError('UnknownOperationException', `${service} on the local hub does not serve ${operation}`);
}

/** The body and headers AWS's JSON protocol uses for an error. */
export function renderJsonError(error: AwsServiceError, contentType: string) {
  return {
    statusCode: error.statusCode,
    headers: { 'content-type': contentType, 'x-amzn-errortype': error.type },
    body: JSON.stringify({ __type: error.type, message: error.message }),
  };
}
