/**
 * What every page service of the sandbox shares: its fields (SOAP name, NAV caption,
 * type, length, editability), reading a request's entity element field by field in
 * page order with NAV's checks (Code upper-cased, lengths, decimals, read-only fields),
 * writing a record as the page's entity element (blank fields left out, as NAV does),
 * and ReadMultiple's filters, bookmark and set size.
 */
import type { XmlElement } from '../../../functions/connectors/soap/xml-reader.ts';
import type { XmlFields } from '../../../functions/connectors/soap/xml-writer.ts';
import { compileFilter, type FieldKind } from './filters.ts';
import { badRequest, stringTooLong } from './nav-errors.ts';
import { decodeKey } from './record-keys.ts';
import type { NavRecord } from './store.ts';

/** One field (control) of a page as its web service exposes it. */
export interface PageField {
  /** Element name, e.g. `External_Document_No`. */
  readonly name: string;
  /** NAV caption for messages, e.g. `External Document No.`. */
  readonly caption: string;
  readonly kind: FieldKind;
  /** Maximum length of a Code or Text field. */
  readonly length?: number;
  readonly editable: boolean;
  /** Values of an option field, as SOAP writes them. */
  readonly options?: readonly string[];
}

/** A page service's name and fields. */
export interface PageDefinition {
  /** Service name, the entity element's name, e.g. `SalesOrder`. */
  readonly service: string;
  /** Source table caption for messages, e.g. `Sales Header`. */
  readonly table: string;
  readonly fields: readonly PageField[];
}

/** Namespace of a page service. */
export function pageNamespace(service: string): string {
  return `urn:microsoft-dynamics-schemas/page/${service.toLowerCase()}`;
}

/** A value a page field holds: text for Code, Text and Option fields, a number for Decimal fields. */
export type FieldValue = string | number;

/** A request entity read: field values by name in page order, and subpage elements by name. */
export interface EntityInput {
  readonly values: ReadonlyMap<string, FieldValue>;
  readonly parts: ReadonlyMap<string, XmlElement>;
}

/**
 * The request entity's fields in page order (the order NAV validates them in), each
 * checked and converted; unknown and repeated elements are refused. `parts` names the
 * subpage elements (e.g. `SalesLines`) the caller reads itself.
 */
export function readEntityFields(page: PageDefinition, entity: XmlElement, parts: readonly string[] = []): EntityInput {
  const byName = new Map<string, XmlElement>();
  for (const child of entity.children) {
    if (byName.has(child.name)) throw badRequest(`The element '${child.name}' occurs more than once in ${page.service}.`);
    if (child.name !== 'Key' && !parts.includes(child.name) && !page.fields.some((field) => field.name === child.name)) {
      throw badRequest(`The element '${child.name}' is not a field of the ${page.service} page.`);
    }
    byName.set(child.name, child);
  }
  const values = new Map<string, FieldValue>();
  for (const field of page.fields) {
    const element = byName.get(field.name);
    if (element !== undefined) values.set(field.name, readFieldValue(page, field, element));
  }
  const partElements = new Map<string, XmlElement>();
  for (const name of parts) {
    const element = byName.get(name);
    if (element !== undefined) partElements.set(name, element);
  }
  return { values, parts: partElements };
}

function readFieldValue(page: PageDefinition, field: PageField, element: XmlElement): FieldValue {
  if (element.children.length > 0) throw badRequest(`The element '${field.name}' of ${page.service} must hold a value, not elements.`);
  if (!field.editable) throw badRequest(`The ${field.caption} field of the ${page.service} page is not editable.`);
  const text = element.text;
  switch (field.kind) {
    case 'decimal': {
      if (!/^\s*-?\d+(\.\d+)?\s*$/.test(text)) throw badRequest(`The value '${text}' of ${field.name} is not a valid decimal.`);
      return Number(text);
    }
    case 'option': {
      if (!field.options!.includes(text)) throw badRequest(`Instance validation error: '${text}' is not a valid value for ${field.name}.`);
      return text;
    }
    case 'code': {
      const value = text.trim().toUpperCase();
      if (field.length !== undefined && value.length > field.length) throw stringTooLong(value, field.length);
      return value;
    }
    case 'text': {
      if (field.length !== undefined && text.length > field.length) throw stringTooLong(text, field.length);
      return text;
    }
  }
}

/** A record's fields as the page's entity content, in page order, blank text left out; `Key` first. */
export function entityContent(page: PageDefinition, key: string, values: Readonly<Record<string, unknown>>): XmlFields {
  const content: Record<string, XmlFields[string]> = { Key: key };
  for (const field of page.fields) {
    const value = values[field.name];
    if (value === undefined || value === '') continue;
    content[field.name] = value as string | number;
  }
  return content;
}

/** ReadMultiple's `filter` (Field, Criteria), `bookmarkKey` and `setSize` over a table's records. */
export function readMultiple(page: PageDefinition, records: readonly NavRecord[], request: XmlElement): NavRecord[] {
  let selected = [...records];
  for (const filter of request.children.filter((child) => child.name === 'filter')) {
    const fieldName = filter.children.find((child) => child.name === 'Field')?.text.trim() ?? '';
    const criteria = filter.children.find((child) => child.name === 'Criteria')?.text ?? '';
    const field = page.fields.find((candidate) => candidate.name === fieldName);
    if (field === undefined) throw badRequest(`Instance validation error: '${fieldName}' is not a valid value for ${page.service}_Fields.`);
    const matches = compileFilter(criteria, field.caption, page.table, field.kind);
    selected = selected.filter((record) => matches(String(record.fields[field.name] ?? '')));
  }
  const setSizeText = request.children.find((child) => child.name === 'setSize')?.text.trim() ?? '0';
  if (!/^-?\d{1,9}$/.test(setSizeText)) throw badRequest(`The value '${setSizeText}' of setSize is not a valid integer.`);
  const setSize = Number(setSizeText);
  if (setSize < 0) selected.reverse();
  const bookmark = request.children.find((child) => child.name === 'bookmarkKey')?.text.trim() ?? '';
  if (bookmark !== '') {
    const decoded = decodeKey(bookmark);
    if (decoded === undefined) throw badRequest(`The bookmark key '${bookmark}' is not valid.`);
    const after = selected.findIndex((record) => (setSize < 0 ? record.no < decoded.no : record.no > decoded.no));
    selected = after < 0 ? [] : selected.slice(after);
  }
  return setSize === 0 ? selected : selected.slice(0, Math.abs(setSize));
}

/** The value of a Read parameter; NavError when it is missing. */
export function readParameter(request: XmlElement, name: string): string {
  const element = request.children.find((child) => child.name === name);
  if (element === undefined) throw badRequest(`The parameter '${name}' of Read is missing.`);
  return element.text.trim().toUpperCase();
}
