/**
 * Builds the API Gateway REST proxy event that API Gateway would hand the ingest
 * Lambda for an HTTP request, so the local ingress runs the same handler with the
 * same event shape as the cloud.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';

/** An HTTP request as the local ingress received it. */
export interface IncomingWebhook {
  readonly method: string;
  /** Path and query, e.g. `/webhooks/hubspot?x=1`, `/webhooks/standard/deal-events`, `/callbacks/erp-middleware`. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly body: string;
  /** Scheme the client used; the local ingress is plain http. */
  readonly protocol?: 'http' | 'https';
  readonly sourceIp?: string;
  /** Stage name API Gateway would prefix; the local ingress has none. */
  readonly stage?: string;
}

/** Harmony's ingress routes as API Gateway declares them: resource path and its one path parameter. */
const ROUTES: readonly { readonly pattern: RegExp; readonly resource: string; readonly parameter: string }[] = [
  // Before `{source}`: API Gateway prefers the static `standard` segment to the variable one.
  { pattern: /^\/webhooks\/standard\/([^/]+)$/, resource: '/webhooks/standard/{mapping}', parameter: 'mapping' },
  { pattern: /^\/webhooks\/([^/]+)$/, resource: '/webhooks/{source}', parameter: 'source' },
  { pattern: /^\/callbacks\/([^/]+)$/, resource: '/callbacks/{system}', parameter: 'system' },
];

/** The route a path takes and its path parameters, e.g. `/webhooks/{source}` with `{ source: 'hubspot' }`. */
function routeOf(path: string): { resource: string; pathParameters: Record<string, string> } | undefined {
  for (const route of ROUTES) {
    const match = route.pattern.exec(path);
    if (match === null) continue;
    let value: string;
    try {
      value = decodeURIComponent(match[1]!);
    } catch {
      // A malformed escape (`%E0%A4%A`) names nothing; the handler answers 404 for it, as for any unknown name.
      value = match[1]!;
    }
    return { resource: route.resource, pathParameters: { [route.parameter]: value } };
  }
  return undefined;
}

/** Converts a request to the proxy event API Gateway (REST, Lambda proxy integration) sends. */
export function toApiGatewayEvent(request: IncomingWebhook): APIGatewayProxyEvent {
  const parsed = new URL(request.url, 'http://local');
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    const values = typeof value === 'string' ? [value] : [...value];
    headers[name] = values.join(',');
    multiValueHeaders[name] = values;
  }
  headers['x-forwarded-proto'] ??= request.protocol ?? 'http';
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [key, value] of parsed.searchParams) {
    query[key] = value;
    (multiQuery[key] ??= []).push(value);
  }
  const stagePath = request.stage === undefined ? parsed.pathname : `/${request.stage}${parsed.pathname}`;
  const now = new Date();
  const route = routeOf(parsed.pathname);
  return {
    resource: route?.resource ?? parsed.pathname,
    path: parsed.pathname,
    httpMethod: request.method.toUpperCase(),
    headers,
    multiValueHeaders,
    queryStringParameters: Object.keys(query).length === 0 ? null : query,
    multiValueQueryStringParameters: Object.keys(multiQuery).length === 0 ? null : multiQuery,
    pathParameters: route?.pathParameters ?? null,
    stageVariables: null,
    body: request.body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: request.method.toUpperCase(),
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: request.sourceIp ?? '127.0.0.1',
        user: null,
        userAgent: headers['user-agent'] ?? null,
        userArn: null,
      },
      domainName: headers.host ?? 'localhost',
      path: stagePath,
      stage: request.stage ?? '$default',
      requestId: randomUUID(),
      requestTimeEpoch: now.getTime(),
      resourceId: 'local',
      resourcePath: route?.resource ?? parsed.pathname,
    },
  };
}
