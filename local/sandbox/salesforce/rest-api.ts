/**
 * The REST API resources the sandbox serves below `/services/data/vXX.X` (REST API Developer
 * Guide): sObject Rows (`GET` a record, all fields or `?fields=`; `PATCH` → 204), sObject Basic
 * Information (`POST` → 201 `{id, success, errors}`), Query (`GET /query?q=`) and Query More
 * Results (`GET /query/<locator>-<offset>`). Errors are thrown as SalesforceApiError.
 */
import { toEighteenCharacterId } from '../../../functions/connectors/crm/salesforce/record-id.ts';
import type { StoredRecord } from './org-store.ts';
import { nextBatch, runQuery } from './query-results.ts';
import { createRecord, sobjectDefinition, updateRecord, type Org } from './records.ts';
import { SalesforceApiError, type SandboxAnswer } from './responses.ts';
import { findField } from './schema.ts';

/** One REST call, already authenticated. */
export interface RestCall {
  readonly method: string;
  /** Below `/services/data/vXX.X`, split, e.g. `["sobjects", "Opportunity", "006…"]`. */
  readonly segments: readonly string[];
  readonly query: URLSearchParams;
  readonly body: unknown;
  readonly version: string;
  readonly userId: string;
  readonly batchSize: number;
}

/** The answer, and the opportunities the call made won. */
export interface RestOutcome {
  readonly answer: SandboxAnswer;
  readonly won: readonly StoredRecord[];
}

function jsonObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new SalesforceApiError(400, 'JSON_PARSER_ERROR', 'The request body must be a JSON object of field values');
  }
  return body as Record<string, unknown>;
}

/** The record `id` names, or NOT_FOUND worded as Salesforce words it. */
function existing(org: Org, objectName: string, id: string): StoredRecord {
  const normalized = toEighteenCharacterId(id);
  if (normalized === undefined) throw new SalesforceApiError(404, 'NOT_FOUND', `Provided external ID field does not exist or is not accessible: ${id}`);
  const found = org.store.find(normalized);
  if (found === undefined || found.sobject !== objectName) throw new SalesforceApiError(404, 'NOT_FOUND', 'The requested resource does not exist');
  return found.record;
}

/** A record as sObject Rows returns it: `attributes`, then every field (or the requested ones). */
export function recordBody(org: Org, objectName: string, record: StoredRecord, version: string, fields?: readonly string[]): Record<string, unknown> {
  const object = sobjectDefinition(org, objectName);
  const body: Record<string, unknown> = { attributes: { type: object.name, url: `/services/data/v${version}/sobjects/${object.name}/${record.Id}` } };
  const names = fields ?? Object.keys(object.fields);
  for (const name of names) {
    const found = findField(object, name);
    if (found === undefined) {
      throw new SalesforceApiError(
        400,
        'INVALID_FIELD',
        `No such column '${name}' on entity '${object.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`,
      );
    }
    body[found[0]] = record[found[0]] ?? null;
  }
  return body;
}

/** Serves one REST call; runs writes inside the caller's transaction. */
export function serveRest(org: Org, call: RestCall): RestOutcome {
  const [resource, objectName, id, ...rest] = call.segments;
  const none: readonly StoredRecord[] = [];
  if (resource === 'query' && call.method === 'GET') {
    const context = { store: org.store, schema: org.schema, version: call.version, batchSize: call.batchSize, now: org.now };
    if (objectName !== undefined && id === undefined) return { answer: { status: 200, body: nextBatch(context, objectName) }, won: none };
    if (objectName === undefined) {
      const soql = call.query.get('q');
      if (soql === null || soql.trim() === '') throw new SalesforceApiError(400, 'MALFORMED_QUERY', 'A query string has to be specified');
      return { answer: { status: 200, body: runQuery(context, soql) }, won: none };
    }
  }
  if (resource !== 'sobjects' || objectName === undefined || rest.length > 0) {
    throw new SalesforceApiError(404, 'NOT_FOUND', 'The requested resource does not exist');
  }
  const object = sobjectDefinition(org, objectName);
  if (id === undefined) {
    if (call.method !== 'POST') throw new SalesforceApiError(405, 'METHOD_NOT_ALLOWED', `HTTP Method '${call.method}' not allowed. Allowed are GET,POST`);
    const outcome = createRecord(org, object, jsonObject(call.body), call.userId);
    return { answer: { status: 201, body: { id: outcome.record.Id, success: true, errors: [] } }, won: outcome.won };
  }
  const record = existing(org, object.name, id);
  if (call.method === 'GET') {
    const fields = call.query.get('fields')?.split(',').map((field) => field.trim()).filter((field) => field !== '');
    return { answer: { status: 200, body: recordBody(org, object.name, record, call.version, fields) }, won: none };
  }
  if (call.method === 'PATCH') {
    const outcome = updateRecord(org, object, record.Id, jsonObject(call.body), call.userId);
    return { answer: { status: 204, body: undefined }, won: outcome.won };
  }
  throw new SalesforceApiError(405, 'METHOD_NOT_ALLOWED', `HTTP Method '${call.method}' not allowed. Allowed are GET,PATCH`);
}
