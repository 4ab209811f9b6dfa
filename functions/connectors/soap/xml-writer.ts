/**
 * Writes XML elements from plain objects with every value escaped, so that a deal
 * named `Müller & Söhne <GmbH> "Nord"` reaches the vendor as that text and never as
 * markup. Characters XML 1.0 cannot carry at all (NUL, most C0 controls, lone
 * surrogates, U+FFFE/U+FFFF) are refused with an error naming the field, rather than
 * dropped or sent as a document the vendor cannot parse.
 */

/** A value written as element content: text, a number, a boolean, nested elements, or a list (the element repeated). */
export type XmlValue = string | number | boolean | null | undefined | XmlFields | readonly XmlValue[];

/** Child elements by name, in insertion order; `undefined` leaves an element out, `null` writes it empty. */
export interface XmlFields {
  readonly [name: string]: XmlValue;
}

/** An element with its own namespace, prefix or attributes (operation, header and WS-Security elements). */
export interface XmlElementSpec {
  /** Local name, e.g. `ReadMultiple`. */
  readonly name: string;
  /** Namespace of the element; declared on it (as the default namespace unless `prefix` is given). */
  readonly namespace?: string;
  /** Prefix to write the element with, declared for `namespace`; children given as XmlFields stay unprefixed. */
  readonly prefix?: string;
  /** Attributes by qualified name, e.g. `{ Type: '…#PasswordText' }` or `{ 'soap:mustUnderstand': '1' }`. */
  readonly attributes?: Readonly<Record<string, string>>;
  /** Text, child elements by name, or child element specs in order. */
  readonly content?: string | number | boolean | XmlFields | readonly XmlElementSpec[];
}

/** A value the writer cannot put into XML; `path` says where, e.g. `Create.Customer.Name`. */
export class XmlWriteError extends Error {
  override readonly name = 'XmlWriteError';
  readonly path: string;
  constructor(path: string, problem: string) {
    super(`${path}: ${problem}`);
    this.path = path;
  }
}

/** Code points XML 1.0 has no way to carry (§2.2 Char), with the `u` flag so paired surrogates pass. */
const FORBIDDEN_CHARACTER = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/u;

/** XML names Harmony writes: ASCII letters, digits, `_`, `-`, `.`, not starting with a digit, `-` or `.`. */
const XML_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const QUALIFIED_NAME = /^(?:[A-Za-z_][A-Za-z0-9_.-]*:)?[A-Za-z_][A-Za-z0-9_.-]*$/;

const TEXT_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  // A raw CR would be turned into LF by the receiving parser (§2.11); a reference survives.
  '\r': '&#xD;',
};
const ATTRIBUTE_ESCAPES: Readonly<Record<string, string>> = { ...TEXT_ESCAPES, '\t': '&#x9;', '\n': '&#xA;' };

/** Escapes text for element content; XmlWriteError naming `path` for a character XML cannot carry. */
export function escapeXmlText(value: string, path: string): string {
  refuseForbidden(value, path);
  return value.replace(/[&<>"'\r]/g, (character) => TEXT_ESCAPES[character]!);
}

/** Escapes text for an attribute value (tabs and newlines too, which attribute normalisation would turn into spaces). */
export function escapeXmlAttribute(value: string, path: string): string {
  refuseForbidden(value, path);
  return value.replace(/[&<>"'\r\t\n]/g, (character) => ATTRIBUTE_ESCAPES[character]!);
}

/** Writes one element (and its children) as XML text. */
export function writeElement(spec: XmlElementSpec, path: string = spec.name): string {
  checkName(spec.name, path);
  if (spec.prefix !== undefined) checkName(spec.prefix, path);
  const qualifiedName = spec.prefix === undefined ? spec.name : `${spec.prefix}:${spec.name}`;
  let attributes = '';
  if (spec.namespace !== undefined) {
    const declaration = spec.prefix === undefined ? 'xmlns' : `xmlns:${spec.prefix}`;
    attributes += ` ${declaration}="${escapeXmlAttribute(spec.namespace, `${path}@${declaration}`)}"`;
  }
  for (const [name, value] of Object.entries(spec.attributes ?? {})) {
    if (!QUALIFIED_NAME.test(name)) throw new XmlWriteError(`${path}@${name}`, 'is not an XML attribute name');
    attributes += ` ${name}="${escapeXmlAttribute(value, `${path}@${name}`)}"`;
  }
  const inner = writeContent(spec.content, path);
  return inner === '' ? `<${qualifiedName}${attributes}/>` : `<${qualifiedName}${attributes}>${inner}</${qualifiedName}>`;
}

function writeContent(content: XmlElementSpec['content'], path: string): string {
  if (content === undefined) return '';
  if (Array.isArray(content)) {
    return (content as readonly XmlElementSpec[]).map((child, index) => writeElement(child, `${path}.${child.name}[${index}]`)).join('');
  }
  if (typeof content === 'object') return writeFields(content as XmlFields, path);
  return scalarText(content as string | number | boolean, path);
}

function writeFields(fields: XmlFields, path: string): string {
  let xml = '';
  for (const [name, value] of Object.entries(fields)) {
    xml += writeField(name, value, `${path}.${name}`);
  }
  return xml;
}

function writeField(name: string, value: XmlValue, path: string): string {
  checkName(name, path);
  if (value === undefined) return '';
  if (value === null) return `<${name}/>`;
  if (Array.isArray(value)) {
    return (value as readonly XmlValue[]).map((item, index) => writeField(name, item, `${path}[${index}]`)).join('');
  }
  const inner = typeof value === 'object' ? writeFields(value as XmlFields, path) : scalarText(value as string | number | boolean, path);
  return inner === '' ? `<${name}/>` : `<${name}>${inner}</${name}>`;
}

/** Text of a scalar: numbers as xs:decimal (never exponent notation), booleans as `true`/`false`. */
function scalarText(value: string | number | boolean, path: string): string {
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return decimalText(value, path);
  return escapeXmlText(value, path);
}

/** A finite number as xs:decimal text: `1234.5`, `0.0000001`, never `1e-7`. */
export function decimalText(value: number, path: string): string {
  if (!Number.isFinite(value)) throw new XmlWriteError(path, `${value} is not a finite number`);
  if (Math.abs(value) >= 1e21) throw new XmlWriteError(path, `${value} is too large for xs:decimal text`);
  const text = String(value);
  if (!/e/i.test(text)) return text;
  return value.toFixed(20).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
}

function checkName(name: string, path: string): void {
  if (!XML_NAME.test(name)) throw new XmlWriteError(path, `${JSON.stringify(name)} is not an XML element name`);
}

function refuseForbidden(value: string, path: string): void {
  const match = FORBIDDEN_CHARACTER.exec(value);
  if (match === null) return;
  const code = match[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
  throw new XmlWriteError(path, `contains U+${code} at position ${match.index}, a character XML 1.0 cannot carry`);
}
