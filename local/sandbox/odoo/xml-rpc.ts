/**
 * A small XML-RPC codec (https://xmlrpc.com/spec.md) for the Odoo sandbox:
 * parses `<methodCall>` bodies and writes `<methodResponse>` bodies the way
 * Python's `xmlrpc.client` (which Odoo uses) does, so existing Odoo client
 * libraries talk to the sandbox unchanged.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

/** A float that must travel as `<double>` even when it has no fractional part (Odoo sends `119.0`, not `119`). */
export class XmlRpcDouble {
  readonly value: number;
  constructor(value: number) {
    this.value = value;
  }
  /** JSON-RPC sends the plain number. */
  toJSON(): number {
    return this.value;
  }
}

/** Any value an XML-RPC message can carry, as the sandbox decodes it. */
export type XmlRpcValue =
  | string
  | number
  | boolean
  | null
  | Date
  | Uint8Array
  | XmlRpcDouble
  | XmlRpcValue[]
  | { [member: string]: XmlRpcValue };

/** A decoded `<methodCall>`. */
export interface XmlRpcCall {
  readonly methodName: string;
  readonly params: XmlRpcValue[];
}

/** The request body is not a well-formed XML-RPC method call. */
export class XmlRpcParseError extends Error {
  override readonly name = 'XmlRpcParseError';
}

/** One node of fast-xml-parser's `preserveOrder` output. */
type OrderedNode = Record<string, unknown>;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  parseTagValue: false,
  trimValues: false,
  cdataPropName: '#cdata',
  processEntities: true,
  htmlEntities: true,
});

/** Parses an XML-RPC `<methodCall>`; throws XmlRpcParseError on anything else. */
export function parseMethodCall(xml: string): XmlRpcCall {
  const validation = XMLValidator.validate(xml);
  if (validation !== true) {
    throw new XmlRpcParseError(`not well-formed XML: ${validation.err.msg} (line ${validation.err.line})`);
  }
  const document = parser.parse(xml) as OrderedNode[];
  const call = elementChildren(document).find((node) => tagOf(node) === 'methodCall');
  if (call === undefined) throw new XmlRpcParseError('root element is not <methodCall>');
  const children = elementChildren(childrenOf(call));
  const nameNode = children.find((node) => tagOf(node) === 'methodName');
  if (nameNode === undefined) throw new XmlRpcParseError('<methodName> is missing');
  const methodName = textOf(childrenOf(nameNode)).trim();
  if (methodName === '') throw new XmlRpcParseError('<methodName> is empty');
  const paramsNode = children.find((node) => tagOf(node) === 'params');
  const params = paramsNode === undefined
    ? []
    : elementChildren(childrenOf(paramsNode)).map((param) => {
        if (tagOf(param) !== 'param') throw new XmlRpcParseError(`unexpected <${tagOf(param)}> in <params>`);
        const value = elementChildren(childrenOf(param)).find((node) => tagOf(node) === 'value');
        if (value === undefined) throw new XmlRpcParseError('<param> without <value>');
        return decodeValue(value);
      });
  return { methodName, params };
}

function tagOf(node: OrderedNode): string {
  return Object.keys(node).find((key) => key !== ':@') ?? '';
}

function childrenOf(node: OrderedNode): OrderedNode[] {
  const children = node[tagOf(node)];
  return Array.isArray(children) ? (children as OrderedNode[]) : [];
}

function elementChildren(nodes: OrderedNode[]): OrderedNode[] {
  return nodes.filter((node) => {
    const tag = tagOf(node);
    return tag !== '#text' && tag !== '#cdata' && tag !== '#comment' && tag !== '';
  });
}

function textOf(nodes: OrderedNode[]): string {
  let text = '';
  for (const node of nodes) {
    const tag = tagOf(node);
    if (tag === '#text') text += String(node['#text']);
    else if (tag === '#cdata') text += textOf(childrenOf(node));
  }
  return text;
}

function decodeValue(valueNode: OrderedNode): XmlRpcValue {
  const children = childrenOf(valueNode);
  const typed = elementChildren(children)[0];
  // A <value> without a type element holds a string (XML-RPC spec).
  if (typed === undefined) return textOf(children);
  const rawTag = tagOf(typed);
  // Apache XML-RPC writes <ex:nil/>, <ex:i8>…: compare the local name.
  const tag = rawTag.includes(':') ? rawTag.slice(rawTag.indexOf(':') + 1) : rawTag;
  const text = textOf(childrenOf(typed));
  switch (tag) {
    case 'int':
    case 'i4':
    case 'i8': {
      const trimmed = text.trim();
      if (!/^[+-]?\d+$/.test(trimmed)) throw new XmlRpcParseError(`<${tag}> holds "${text}", not an integer`);
      return Number.parseInt(trimmed, 10);
    }
    case 'boolean': {
      const trimmed = text.trim();
      if (trimmed !== '0' && trimmed !== '1') throw new XmlRpcParseError(`<boolean> holds "${text}", not 0 or 1`);
      return trimmed === '1';
    }
    case 'string':
      return text;
    case 'double': {
      const value = Number(text.trim());
      if (text.trim() === '' || Number.isNaN(value)) throw new XmlRpcParseError(`<double> holds "${text}", not a number`);
      return value;
    }
    case 'nil':
      return null;
    case 'dateTime.iso8601':
      return decodeDateTime(text.trim());
    case 'base64':
      return new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'base64'));
    case 'array': {
      const data = elementChildren(childrenOf(typed)).find((node) => tagOf(node) === 'data');
      if (data === undefined) throw new XmlRpcParseError('<array> without <data>');
      return elementChildren(childrenOf(data)).map((item) => {
        if (tagOf(item) !== 'value') throw new XmlRpcParseError(`unexpected <${tagOf(item)}> in <data>`);
        return decodeValue(item);
      });
    }
    case 'struct': {
      const struct: { [member: string]: XmlRpcValue } = {};
      for (const member of elementChildren(childrenOf(typed))) {
        if (tagOf(member) !== 'member') throw new XmlRpcParseError(`unexpected <${tagOf(member)}> in <struct>`);
        const parts = elementChildren(childrenOf(member));
        const name = parts.find((node) => tagOf(node) === 'name');
        const value = parts.find((node) => tagOf(node) === 'value');
        if (name === undefined || value === undefined) throw new XmlRpcParseError('<member> needs <name> and <value>');
        struct[textOf(childrenOf(name))] = decodeValue(value);
      }
      return struct;
    }
    default:
      throw new XmlRpcParseError(`unknown XML-RPC type <${rawTag}>`);
  }
}

/** Accepts `20240131T08:15:00`, `2024-01-31T08:15:00` and a trailing `Z`/offset; values without a zone are UTC. */
function decodeDateTime(text: string): Date {
  const match = /^(\d{4})-?(\d{2})-?(\d{2})T(\d{2}):?(\d{2}):?(\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/.exec(text);
  if (match === null) throw new XmlRpcParseError(`<dateTime.iso8601> holds "${text}"`);
  const [, year, month, day, hour, minute, second, fraction, zone] = match;
  const iso = `${year}-${month}-${day}T${hour}:${minute}:${second}${fraction ?? ''}${normaliseZone(zone)}`;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) throw new XmlRpcParseError(`<dateTime.iso8601> holds "${text}"`);
  return date;
}

function normaliseZone(zone: string | undefined): string {
  if (zone === undefined || zone === 'Z') return 'Z';
  return zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
}

/** Writes a successful `<methodResponse>` holding one value, laid out as Odoo's `dumps` (Python's Marshaller) does. */
export function serializeMethodResponse(value: unknown): string {
  return `<?xml version="1.0"?>\n<methodResponse>\n<params>\n<param>\n${encodeValue(value)}</param>\n</params>\n\n</methodResponse>\n`;
}

/** Writes a `<fault>` response with Odoo's `faultCode` (an int on `/xmlrpc/2`) and `faultString`. */
export function serializeFault(faultCode: number, faultString: string): string {
  return `<?xml version="1.0"?>\n<methodResponse>\n<fault>\n${encodeValue({ faultCode, faultString })}</fault>\n\n</methodResponse>\n`;
}

// XML 1.0 forbids control characters other than tab, LF and CR; Odoo strips them too.
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g;

function escapeText(text: string): string {
  return text
    .replace(CONTROL_CHARACTERS, '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;');
}

function encodeValue(value: unknown): string {
  if (value === null || value === undefined) return '<value><nil/></value>\n';
  if (value instanceof XmlRpcDouble) return `<value><double>${formatDouble(value.value)}</double></value>\n`;
  switch (typeof value) {
    case 'boolean':
      return `<value><boolean>${value ? 1 : 0}</boolean></value>\n`;
    case 'number':
      if (Number.isInteger(value) && Math.abs(value) <= 2 ** 31 - 1) return `<value><int>${value}</int></value>\n`;
      return `<value><double>${formatDouble(value)}</double></value>\n`;
    case 'bigint':
      return `<value><i8>${value}</i8></value>\n`;
    case 'string':
      return `<value><string>${escapeText(value)}</string></value>\n`;
    case 'object':
      break;
    default:
      throw new TypeError(`cannot marshal ${typeof value} objects`);
  }
  if (value instanceof Date) return `<value><dateTime.iso8601>${formatDateTime(value)}</dateTime.iso8601></value>\n`;
  if (value instanceof Uint8Array) return `<value><base64>\n${Buffer.from(value).toString('base64')}\n</base64></value>\n`;
  if (Array.isArray(value)) {
    return `<value><array><data>\n${value.map((item) => encodeValue(item)).join('')}</data></array></value>\n`;
  }
  const members = Object.entries(value as Record<string, unknown>)
    .filter(([, member]) => member !== undefined)
    .map(([name, member]) => `<member>\n<name>${escapeText(name)}</name>\n${encodeValue(member)}</member>\n`)
    .join('');
  return `<value><struct>\n${members}</struct></value>\n`;
}

/** Python's `repr(float)`: always shows a decimal point for whole numbers. */
function formatDouble(value: number): string {
  if (!Number.isFinite(value)) throw new TypeError(`cannot marshal ${value}`);
  return Number.isInteger(value) && Math.abs(value) < 1e16 ? value.toFixed(1) : String(value);
}

function formatDateTime(date: Date): string {
  return date.toISOString().slice(0, 19).replaceAll('-', '');
}
