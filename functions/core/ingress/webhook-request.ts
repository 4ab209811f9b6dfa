/**
 * A webhook request in one shape, whoever delivered it: API Gateway in AWS or the
 * local ingress (which builds the same API Gateway proxy event). Also the HTTP
 * responses the ingress gives, each with a JSON body saying what was wrong.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

/** The parts of a webhook delivery that verification and parsing need. */
export interface WebhookRequest {
  /**
   * Which sender the route names: the `{source}` of `/webhooks/{source}` (e.g. `hubspot`),
   * `standard` for `/webhooks/standard/{mapping}`, `callbacks` for `/callbacks/{system}`.
   */
  readonly source: string;
  /** The `{mapping}` or `{system}` of the two-level routes; undefined on `/webhooks/{source}`. */
  readonly target: string | undefined;
  readonly method: string;
  /** The full URL as the sender called it (scheme, host, stage path, query) — signatures cover it. */
  readonly url: string;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  /** The raw body, exactly as received (signatures are over these bytes). */
  readonly body: string;
  readonly bodyBytes: number;
  readonly sourceIp: string | undefined;
}

/**
 * Normalises an API Gateway REST proxy event of any of the ingress routes
 * (`/webhooks/{source}`, `/webhooks/standard/{mapping}`, `/callbacks/{system}`).
 * @param publicBaseUrl the URL senders were given when it differs from the API's own (a custom domain), e.g. `https://hooks.example.com`
 */
export function fromApiGatewayEvent(event: APIGatewayProxyEvent, publicBaseUrl?: string): WebhookRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined) headers[name.toLowerCase()] = value;
  }
  const raw = event.body ?? '';
  const body = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  const query = event.multiValueQueryStringParameters
    ? new URLSearchParams(
        Object.entries(event.multiValueQueryStringParameters).flatMap(([key, values]) =>
          (values ?? []).map((value): [string, string] => [key, value]),
        ),
      ).toString()
    : '';
  const path = publicBaseUrl === undefined ? event.requestContext.path : event.path;
  const base =
    publicBaseUrl?.replace(/\/$/, '') ??
    `${headers['x-forwarded-proto'] ?? 'https'}://${headers.host ?? event.requestContext.domainName ?? 'localhost'}`;
  const parameters = event.pathParameters ?? {};
  const route =
    parameters.mapping !== undefined
      ? { source: 'standard', target: parameters.mapping }
      : parameters.system !== undefined
        ? { source: 'callbacks', target: parameters.system }
        : { source: parameters.source ?? '', target: undefined };
  return {
    ...route,
    method: event.httpMethod,
    url: `${base}${path}${query === '' ? '' : `?${query}`}`,
    headers,
    body,
    bodyBytes: event.isBase64Encoded ? Buffer.from(raw, 'base64').byteLength : Buffer.byteLength(raw, 'utf8'),
    sourceIp: event.requestContext.identity?.sourceIp,
  };
}

/** A JSON response. */
export function respond(statusCode: number, body: Readonly<Record<string, unknown>>): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: JSON.stringify(body),
  };
}

/** A 4xx response whose body names the error and where it is. */
export function reject(statusCode: number, error: string, message: string): APIGatewayProxyResult {
  return respond(statusCode, { error, message });
}

/**
 * How a source's sender is answered, once the source is known: the sender reads the answer
 * (Salesforce retries until it gets its SOAP Ack), so a source may speak the sender's protocol.
 */
export interface WebhookAnswers {
  /** Every event of the delivery is on the bus, or known as a duplicate. */
  accepted(counts: { readonly accepted: number; readonly duplicates: number }): APIGatewayProxyResult;
  /** A refusal (4xx) or a failure the sender should retry (503): `error` is the short name, `message` what and where. */
  refused(statusCode: number, error: string, message: string): APIGatewayProxyResult;
}

/** Harmony's own answers: JSON counts, or a JSON `{error, message}`. */
export const JSON_ANSWERS: WebhookAnswers = {
  accepted: (counts) => respond(200, { ...counts }),
  refused: reject,
};
