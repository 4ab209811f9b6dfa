/**
 * SAP Gateway-shaped HTTP answers: OData v2 JSON (`DataServiceVersion`), the error body
 * `{"error":{"code","message":{"lang","value"},"innererror":{"application",
 * "transactionid","timestamp","Error_Resolution","errordetails"}}}` with the component of
 * the service, the CSRF refusal (403, `x-csrf-token: Required`, plain text) and the ICF
 * logon failure (401 with a `WWW-Authenticate` challenge and an HTML page).
 */
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/** A status, headers and body not yet sent; `body` undefined sends none (204). */
export interface SandboxAnswer {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string | string[]>>;
}

const COMPONENTS: Readonly<Record<string, string>> = {
  API_SALES_ORDER_SRV: 'SD-SLS-API',
  API_BUSINESS_PARTNER: 'LO-MD-BP',
};

/** SAP's `innererror.timestamp`: `yyyymmddhhmmss.fffffff` in UTC. */
function gatewayTimestamp(): string {
  const iso = new Date().toISOString();
  return `${iso.slice(0, 19).replace(/[-:T]/g, '')}.${iso.slice(20, 23)}0000`;
}

/** An error answer as Gateway writes it for `service`. */
export function sapError(status: number, code: string, message: string, service = '', headers: SandboxAnswer['headers'] = {}): SandboxAnswer {
  return {
    status,
    headers,
    body: {
      error: {
        code,
        message: { lang: 'en', value: message },
        innererror: {
          application: { component_id: COMPONENTS[service] ?? '', service_namespace: '/SAP/', service_id: service, service_version: '0001' },
          transactionid: randomBytes(16).toString('hex').toUpperCase(),
          timestamp: gatewayTimestamp(),
          Error_Resolution: {
            SAP_Transaction: 'For backend administrators: use ADT feed reader "SAP Gateway Error Log" or run transaction /IWFND/ERROR_LOG on SAP Gateway hub system and search for entries with the timestamp above for more details',
            SAP_Note: 'See SAP Note 1797736 for error analysis (https://service.sap.com/sap/support/notes/1797736)',
          },
          errordetails: [{ code, message, propertyref: '', severity: 'error', target: '', transition: false }],
        },
      },
    },
  };
}

/** 404 for a key the entity set does not have. */
export function resourceNotFound(service: string, type: string): SandboxAnswer {
  return sapError(404, '/IWBEP/CM_MGW_RT/020', `Resource not found for segment '${type}'`, service);
}

/** 404 for a service the system does not have (or has not activated). */
export function serviceNotFound(name: string): SandboxAnswer {
  return sapError(404, '/IWFND/MED/170', `No service found for namespace '/SAP/', name '${name}', version '0001'`);
}

/** 403 when the CSRF token or the session it belongs to is missing, wrong or expired. */
export function csrfRequired(): SandboxAnswer {
  return { status: 403, headers: { 'x-csrf-token': 'Required', 'content-type': 'text/plain; charset=utf-8' }, body: 'CSRF token validation failed' };
}

/** 401 from the ICF logon when neither the password nor the bearer token is accepted. */
export function logonFailed(systemId: string, client: string, bearer: boolean): SandboxAnswer {
  const realm = `SAP NetWeaver Application Server [${systemId}/${client}]`;
  return {
    status: 401,
    headers: {
      'www-authenticate': bearer ? `Bearer realm="${realm}", error="invalid_token"` : `Basic realm="${realm}"`,
      'content-type': 'text/html; charset=utf-8',
    },
    body: '<html><head><title>Logon Error Message</title></head><body><h1>Logon failed</h1><p>Log on to SAP with valid credentials</p></body></html>',
  };
}

/** 429 as an API gateway in front of SAP throttles, with Retry-After. */
export function tooManyRequests(retryAfterSeconds: number, service: string): SandboxAnswer {
  return sapError(429, '429', 'Rate limit exceeded (injected by the sandbox)', service, { 'retry-after': String(retryAfterSeconds) });
}

/** 500 as an injected fault. */
export function internalError(service: string): SandboxAnswer {
  return sapError(500, '/IWBEP/CX_MGW_TECH_EXCEPTION', 'An exception was raised (injected by the sandbox)', service);
}

/** Writes an answer; JSON bodies as Gateway's OData v2 JSON. */
export function send(response: ServerResponse, answer: SandboxAnswer): void {
  if (response.headersSent || response.destroyed) return;
  const headers: Record<string, string | string[]> = { dataserviceversion: '2.0', ...answer.headers };
  if (answer.body === undefined) {
    response.writeHead(answer.status, headers).end();
    return;
  }
  const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
  if (!Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json; charset=utf-8';
  response.writeHead(answer.status, headers).end(text);
}
