/**
 * Checks one field value of a create or update body the way Salesforce's REST API does: the
 * field must exist (INVALID_FIELD) and be writable (INVALID_FIELD_FOR_INSERT_UPDATE), the JSON
 * type must fit (JSON_PARSER_ERROR), text must fit its length (STRING_TOO_LONG), a restricted
 * picklist must hold one of its values, a reference must be an id of an existing record of
 * the right object (MALFORMED_ID, INVALID_CROSS_REFERENCE_KEY). Numbers are rounded to the
 * field's scale, half up, as Salesforce stores them.
 */
import { toEighteenCharacterId } from '../../../functions/connectors/crm/salesforce/record-id.ts';
import type { FieldValue, OrgStore } from './org-store.ts';
import { SalesforceApiError } from './responses.ts';
import { findField, type FieldDefinition, type SObjectDefinition } from './schema.ts';

/** `value` rounded half up to `scale` decimal places. */
export function roundTo(value: number, scale: number): number {
  return Number(`${Math.round(Number(`${value}e${scale}`))}e-${scale}`);
}

/** Salesforce's datetime format, e.g. `2026-03-01T10:00:00.000+0000`. */
export function salesforceDateTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace('Z', '+0000');
}

function jsonParserError(field: string, type: string, value: unknown): SalesforceApiError {
  return new SalesforceApiError(
    400,
    'JSON_PARSER_ERROR',
    `Cannot deserialize instance of ${type} from ${typeof value === 'string' ? 'VALUE_STRING' : 'VALUE'} value ${JSON.stringify(value)} or request may be missing a required field (field ${field})`,
  );
}

/** The checked value of one field of a write, under its API name. */
export function checkFieldValue(
  store: OrgStore,
  object: SObjectDefinition,
  name: string,
  value: unknown,
  operation: 'create' | 'update',
): [string, FieldValue] {
  const found = findField(object, name);
  if (found === undefined) throw new SalesforceApiError(400, 'INVALID_FIELD', `No such column '${name}' on sobject of type ${object.name}`);
  const [apiName, field] = found;
  if (!(operation === 'create' ? field.createable : field.updateable)) {
    throw new SalesforceApiError(
      400,
      'INVALID_FIELD_FOR_INSERT_UPDATE',
      `Unable to create/update fields: ${apiName}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`,
      [apiName],
    );
  }
  if (value === null) {
    if (field.type === 'boolean') throw jsonParserError(apiName, 'boolean', value);
    return [apiName, null];
  }
  return [apiName, checkTypedValue(store, apiName, field, value)];
}

function checkTypedValue(store: OrgStore, apiName: string, field: FieldDefinition, value: unknown): FieldValue {
  switch (field.type) {
    case 'boolean':
      if (typeof value !== 'boolean') throw jsonParserError(apiName, 'boolean', value);
      return value;
    case 'currency':
    case 'double':
    case 'percent':
      if (typeof value !== 'number' || !Number.isFinite(value)) throw jsonParserError(apiName, 'double', value);
      return roundTo(value, field.scale ?? 2);
    case 'date':
      if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) {
        throw jsonParserError(apiName, 'Date', value);
      }
      return value;
    case 'reference':
      return checkReference(store, apiName, field, value);
    default: {
      if (typeof value !== 'string') throw jsonParserError(apiName, 'String', value);
      if (field.length !== undefined && value.length > field.length) {
        throw new SalesforceApiError(400, 'STRING_TOO_LONG', `${field.label}: data value too large: ${value.slice(0, 40)}… (max length=${field.length})`, [apiName]);
      }
      if (field.values !== undefined && !field.values.includes(value)) {
        throw new SalesforceApiError(400, 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', `${field.label}: bad value for restricted picklist field: ${value}`, [apiName]);
      }
      return value;
    }
  }
}

function checkReference(store: OrgStore, apiName: string, field: FieldDefinition, value: unknown): string {
  const id = typeof value === 'string' ? toEighteenCharacterId(value) : undefined;
  if (id === undefined) throw new SalesforceApiError(400, 'MALFORMED_ID', `${field.label}: id value of incorrect type: ${String(value)}`, [apiName]);
  const target = store.find(id);
  if (target === undefined || target.sobject !== field.referenceTo) {
    throw new SalesforceApiError(400, 'INVALID_CROSS_REFERENCE_KEY', `invalid cross reference id`, [apiName]);
  }
  return id;
}
