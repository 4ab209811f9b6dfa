/**
 * The CRM v3 objects subset, on the sandbox's store: read one record (with
 * `properties` and `associations`), list a page, batch read, and PATCH with HubSpot's
 * property validation. Every function answers with a HubSpot-shaped response.
 */
import * as z from 'zod';
import {
  ALWAYS_RETURNED,
  ASSOCIATION_KEYS,
  DEFAULT_PROPERTIES,
  PROPERTY_DEFINITIONS,
  lastModifiedProperty,
  resolveObjectType,
  type ObjectType,
  type StoredRecord,
} from './portal-data.ts';
import type { PortalStore } from './portal-store.ts';
import { hubspotError, invalidProperties, objectNotFound, type PropertyProblem, type SandboxResponse } from './responses.ts';

/** What a read asks for, from the query string (repeated or comma-separated values both work). */
export interface ReadOptions {
  readonly properties: readonly string[] | undefined;
  readonly associations: readonly ObjectType[];
  readonly archived: boolean;
}

/** Reads `properties`, `associations` and `archived` from a query string as HubSpot does. */
export function readOptions(query: URLSearchParams): ReadOptions {
  const list = (name: string): string[] =>
    query
      .getAll(name)
      .flatMap((value) => value.split(','))
      .map((value) => value.trim())
      .filter((value) => value !== '');
  const properties = list('properties');
  return {
    properties: query.has('properties') ? properties : undefined,
    associations: list('associations')
      .map(resolveObjectType)
      .filter((type): type is ObjectType => type !== undefined),
    archived: query.get('archived') === 'true',
  };
}

/** A record as the API returns it; `portal` gives the links when `associations` are asked for. */
export function serializeRecord(type: ObjectType, record: StoredRecord, options: ReadOptions, portal: PortalStore): Record<string, unknown> {
  const definitions = PROPERTY_DEFINITIONS[type];
  const names = new Set([...(options.properties ?? DEFAULT_PROPERTIES[type]), ...ALWAYS_RETURNED[type]]);
  const properties: Record<string, string | null> = {};
  for (const name of [...names].sort()) {
    // HubSpot silently leaves out properties that do not exist in the portal.
    if (definitions[name] === undefined && record.properties[name] === undefined) continue;
    properties[name] = record.properties[name] ?? null;
  }
  const serialized: Record<string, unknown> = {
    id: record.id,
    properties,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    archived: false,
  };
  const associations: Record<string, unknown> = {};
  for (const target of options.associations) {
    const links = portal.links(type, record.id, target);
    if (links.length > 0) associations[ASSOCIATION_KEYS[target]] = { results: links.map((link) => ({ ...link })) };
  }
  if (Object.keys(associations).length > 0) serialized['associations'] = associations;
  return serialized;
}

/** `GET /crm/v3/objects/{type}/{id}`. */
export function getRecord(portal: PortalStore, type: ObjectType, id: string, query: URLSearchParams): SandboxResponse {
  const options = readOptions(query);
  const record = portal.find(type, id);
  if (record === undefined || options.archived) return objectNotFound(id);
  return { status: 200, body: serializeRecord(type, record, options, portal) };
}

/** `GET /crm/v3/objects/{type}?limit&after`: a page in id order, with `paging.next.after`. */
export function listRecords(
  portal: PortalStore,
  type: ObjectType,
  query: URLSearchParams,
  baseUrl: string,
): SandboxResponse {
  const options = readOptions(query);
  const limit = Number(query.get('limit') ?? '10');
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    return hubspotError(400, 'VALIDATION_ERROR', `limit must be between 1 and 100, got ${query.get('limit')}`);
  }
  const after = query.get('after') === null ? -1 : Number(query.get('after'));
  // One row more than the page tells whether there is a next page.
  const rows = options.archived || Number.isNaN(after) ? [] : portal.page(type, after, limit + 1);
  const page = rows.slice(0, limit);
  const body: Record<string, unknown> = { results: page.map((record) => serializeRecord(type, record, options, portal)) };
  const last = page.at(-1)?.id;
  if (last !== undefined && rows.length > limit) {
    body['paging'] = { next: { after: last, link: `${baseUrl}/crm/v3/objects/${type}?after=${last}&limit=${limit}` } };
  }
  return { status: 200, body };
}

const BatchReadBody = z.object({
  inputs: z.array(z.object({ id: z.string() })),
  properties: z.array(z.string()).default([]),
  propertiesWithHistory: z.array(z.string()).optional(),
  idProperty: z.string().optional(),
});

/** `POST /crm/v3/objects/{type}/batch/read`: 200, or 207 listing the ids it could not find. */
export function batchRead(portal: PortalStore, type: ObjectType, body: unknown): SandboxResponse {
  const parsed = BatchReadBody.safeParse(body);
  if (!parsed.success) return invalidInput(parsed.error);
  const { inputs, properties } = parsed.data;
  if (inputs.length > 100) {
    return hubspotError(400, 'VALIDATION_ERROR', `Batch input size ${inputs.length} exceeds the limit of 100`);
  }
  const startedAt = new Date().toISOString();
  const options: ReadOptions = { properties, associations: [], archived: false };
  const found = inputs.map((input) => portal.find(type, input.id));
  const results = found
    .filter((record): record is StoredRecord => record !== undefined)
    .map((record) => serializeRecord(type, record, options, portal));
  const missing = inputs.map((input) => input.id).filter((_, index) => found[index] === undefined);
  const answer: Record<string, unknown> = {
    status: 'COMPLETE',
    results,
    startedAt,
    completedAt: new Date().toISOString(),
  };
  if (missing.length === 0) return { status: 200, body: answer };
  const label = type.replace(/s$/, '').toUpperCase();
  return {
    status: 207,
    body: {
      ...answer,
      numErrors: 1,
      errors: [
        {
          status: 'error',
          category: 'OBJECT_NOT_FOUND',
          message: `Could not get some ${label} objects, they may be deleted or not exist. Check that ids are valid.`,
          context: { ids: missing },
          links: {},
          errors: [],
        },
      ],
    },
  };
}

/** Property values as a write sends them; HubSpot stores every value as a string. */
export const WrittenProperties = z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]));

const PatchBody = z.object({ properties: WrittenProperties });

/** One property whose value a write changed or set. */
export interface PropertyChange {
  readonly name: string;
  readonly value: string;
}

/** Written values as HubSpot stores them: strings, `null` as the empty string (which clears). */
export function normalizeValues(properties: z.infer<typeof WrittenProperties>): PropertyChange[] {
  return Object.entries(properties).map(([name, value]) => ({ name, value: value === null ? '' : String(value) }));
}

/**
 * Checks written values against the portal's property definitions as HubSpot does:
 * unknown, read-only, not one of an enumeration's options, not a number.
 */
export function propertyProblems(type: ObjectType, values: readonly PropertyChange[]): PropertyProblem[] {
  const definitions = PROPERTY_DEFINITIONS[type];
  const problems: PropertyProblem[] = [];
  for (const { name, value } of values) {
    const definition = definitions[name];
    if (definition === undefined) {
      problems.push({ name, error: 'PROPERTY_DOESNT_EXIST', message: `Property "${name}" does not exist` });
    } else if (definition.readOnly === true) {
      problems.push({ name, error: 'READ_ONLY_VALUE', message: `"${name}" is a read only property; its value cannot be set.` });
    } else if (value !== '' && definition.type === 'enumeration' && !definition.options?.includes(value)) {
      problems.push({
        name,
        error: 'INVALID_OPTION',
        message: `${value} was not one of the allowed options: ${(definition.options ?? []).map((option) => `[label: "${option}"\nvalue: "${option}"\n]`).join(', ')}`,
      });
    } else if (value !== '' && definition.type === 'number' && !/^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(value)) {
      problems.push({ name, error: 'INVALID_FLOAT', message: `${value} was not a valid number.` });
    }
  }
  return problems;
}

/**
 * `PATCH /crm/v3/objects/{type}/{id}`: validates like HubSpot (unknown, read-only,
 * invalid option, not a number), applies the values (empty clears) and reports which
 * properties actually changed. Nothing is written when anything is invalid.
 */
export function patchRecord(
  portal: PortalStore,
  type: ObjectType,
  id: string,
  body: unknown,
  portalId: number,
  now: Date = new Date(),
): { readonly response: SandboxResponse; readonly changes: readonly PropertyChange[] } {
  const record = portal.find(type, id);
  if (record === undefined) return { response: objectNotFound(id), changes: [] };
  const parsed = PatchBody.safeParse(body);
  if (!parsed.success) return { response: invalidInput(parsed.error), changes: [] };
  const values = normalizeValues(parsed.data.properties);
  const problems = propertyProblems(type, values);
  if (problems.length > 0) return { response: invalidProperties(problems, portalId), changes: [] };
  const changes: PropertyChange[] = [];
  for (const { name, value } of values) {
    const previous = record.properties[name] ?? '';
    if (previous === value) continue;
    if (value === '') delete record.properties[name];
    else record.properties[name] = value;
    changes.push({ name, value });
  }
  if (changes.length > 0) {
    record.updatedAt = now.toISOString();
    record.properties[lastModifiedProperty(type)] = record.updatedAt;
    portal.put(type, record);
  }
  const options: ReadOptions = { properties: values.map((value) => value.name), associations: [], archived: false };
  return { response: { status: 200, body: serializeRecord(type, record, options, portal) }, changes };
}

/** 400 for a body that does not fit the operation's schema, naming the first problem. */
export function invalidInput(error: z.ZodError): SandboxResponse {
  const issue = error.issues[0];
  const where = issue === undefined ? '' : ` at ${issue.path.join('.') || 'body'}: ${issue.message}`;
  return hubspotError(400, 'VALIDATION_ERROR', `Invalid input JSON${where}`);
}
