/**
 * Reads a vendor's XML answer into a tree of elements named by local name and resolved
 * namespace, so callers never depend on the prefixes a server happens to choose.
 * Hostile input is refused, never expanded: a document type declaration (SOAP forbids
 * them, and they carry the entity bombs and external entities), entities other than
 * XML's five and character references, documents larger or deeper than a limit, and
 * anything that is not well-formed. Built on fast-xml-parser, which does the tokenising;
 * entity decoding and namespaces are done here so nothing is expanded behind our back.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

/** One element of a parsed document. */
export interface XmlElement {
  /** Local name, without prefix. */
  readonly name: string;
  /** Namespace URI the element's prefix (or the default namespace) resolves to; '' when none. */
  readonly namespace: string;
  /** Attributes by local name (`xml:lang` → `lang`); namespace declarations are not included. */
  readonly attributes: Readonly<Record<string, string>>;
  /** Child elements in document order. */
  readonly children: readonly XmlElement[];
  /** The element's own text (character data and CDATA), decoded; whitespace kept. */
  readonly text: string;
}

/** Why a document was refused; the message says what and where. */
export class XmlReadError extends Error {
  override readonly name = 'XmlReadError';
}

/** Limits of {@link readXml}. */
export interface XmlReadLimits {
  /** Characters the document may have. @default 10_000_000 */
  readonly maxLength?: number;
  /** Element nesting it may have. @default 256 */
  readonly maxDepth?: number;
}

const XML_NAMESPACE = 'http://www.w3.org/XML/1998/namespace';
const PREDEFINED_ENTITIES: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const REFERENCE = /&([^;&\s]{0,32});?/g;
const CDATA = '__cdata';

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: false,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  cdataPropName: CDATA,
});

type OrderedNode = Record<string, unknown>;

/** Parses `text` into its root element; XmlReadError for anything hostile or not well-formed. */
export function readXml(text: string, limits: XmlReadLimits = {}): XmlElement {
  const maxLength = limits.maxLength ?? 10_000_000;
  const maxDepth = limits.maxDepth ?? 256;
  if (text.length > maxLength) throw new XmlReadError(`the document has ${text.length} characters; at most ${maxLength} are read`);
  refuseDocumentType(text);
  const depth = nestingDepth(text);
  if (depth > maxDepth) throw new XmlReadError(`elements are nested ${depth} deep; at most ${maxDepth} are read`);
  const validation = XMLValidator.validate(text);
  if (validation !== true) {
    throw new XmlReadError(`not well-formed XML: ${validation.err.msg} (line ${validation.err.line}, column ${validation.err.col})`);
  }
  let nodes: OrderedNode[];
  try {
    nodes = parser.parse(text) as OrderedNode[];
  } catch (error) {
    throw new XmlReadError(`not well-formed XML: ${(error as Error).message}`);
  }
  const roots = nodes.filter((node) => elementName(node) !== undefined);
  if (roots.length !== 1) throw new XmlReadError(`expected one root element, found ${roots.length}`);
  return toElement(roots[0]!, new Map([['', ''], ['xml', XML_NAMESPACE]]));
}

/** The first child named `name` (any namespace unless given). */
export function childElement(element: XmlElement, name: string, namespace?: string): XmlElement | undefined {
  return element.children.find((child) => child.name === name && (namespace === undefined || child.namespace === namespace));
}

/**
 * The element as plain data for validation: an element without child elements is its
 * text; one with children is an object by child name, a repeated name an array.
 */
export function elementToPlain(element: XmlElement): unknown {
  if (element.children.length === 0) return element.text;
  const byName = new Map<string, unknown[]>();
  for (const child of element.children) {
    const values = byName.get(child.name) ?? [];
    values.push(elementToPlain(child));
    byName.set(child.name, values);
  }
  return Object.fromEntries([...byName].map(([name, values]) => [name, values.length === 1 ? values[0] : values]));
}

/** SOAP 1.1 §3 and SOAP 1.2 §5 forbid a DTD; refusing it refuses entity bombs and external entities with it. */
function refuseDocumentType(text: string): void {
  const declaration = /<!DOCTYPE|<!ENTITY/i.exec(text);
  if (declaration !== null) {
    throw new XmlReadError(`a document type declaration (${declaration[0]}) at position ${declaration.index} is refused: SOAP messages must not carry one`);
  }
}

/** The deepest element nesting, counted on the raw text so a deep document is refused before it is parsed. */
function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  const tags = /<(\/?)([A-Za-z_][^\s/>]*)(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*(\/?)>|<!\[CDATA\[[\s\S]*?\]\]>|<!--[\s\S]*?-->/g;
  for (let match = tags.exec(text); match !== null; match = tags.exec(text)) {
    if (match[2] === undefined) continue;
    if (match[1] === '/') depth -= 1;
    else if (match[3] !== '/') {
      depth += 1;
      if (depth > deepest) deepest = depth;
    }
  }
  return deepest;
}

function elementName(node: OrderedNode): string | undefined {
  return Object.keys(node).find((key) => key !== ':@' && key !== '#text' && key !== CDATA);
}

function toElement(node: OrderedNode, outerScope: ReadonlyMap<string, string>): XmlElement {
  const qualifiedName = elementName(node)!;
  const rawAttributes = (node[':@'] ?? {}) as Record<string, unknown>;
  const scope = new Map(outerScope);
  const attributes: Record<string, string> = {};
  for (const [name, raw] of Object.entries(rawAttributes)) {
    const value = decodeReferences(String(raw), `attribute ${name} of <${qualifiedName}>`);
    if (name === 'xmlns') scope.set('', value);
    else if (name.startsWith('xmlns:')) scope.set(name.slice(6), value);
  }
  for (const name of Object.keys(rawAttributes)) {
    if (name === 'xmlns' || name.startsWith('xmlns:')) continue;
    const colon = name.indexOf(':');
    if (colon >= 0 && !scope.has(name.slice(0, colon))) throw new XmlReadError(`attribute ${name} of <${qualifiedName}> uses an undeclared prefix`);
    attributes[colon >= 0 ? name.slice(colon + 1) : name] = decodeReferences(String(rawAttributes[name]), `attribute ${name} of <${qualifiedName}>`);
  }
  const colon = qualifiedName.indexOf(':');
  const prefix = colon >= 0 ? qualifiedName.slice(0, colon) : '';
  const namespace = scope.get(prefix);
  if (namespace === undefined) throw new XmlReadError(`<${qualifiedName}> uses the undeclared prefix ${prefix}`);
  const children: XmlElement[] = [];
  let text = '';
  for (const child of (node[qualifiedName] ?? []) as OrderedNode[]) {
    if ('#text' in child) text += decodeReferences(String(child['#text']), `the text of <${qualifiedName}>`);
    else if (CDATA in child) text += cdataText(child[CDATA]);
    else if (elementName(child) !== undefined) children.push(toElement(child, scope));
  }
  return { name: colon >= 0 ? qualifiedName.slice(colon + 1) : qualifiedName, namespace, attributes, children, text };
}

function cdataText(value: unknown): string {
  if (Array.isArray(value)) return value.map((part) => String((part as Record<string, unknown>)['#text'] ?? '')).join('');
  return String(value ?? '');
}

/** Decodes XML's five entities and character references; anything else is refused, not guessed. */
function decodeReferences(raw: string, where: string): string {
  return raw.replace(REFERENCE, (whole, body: string) => {
    if (!whole.endsWith(';')) throw new XmlReadError(`${where}: a bare '&' (${JSON.stringify(whole.slice(0, 12))}) is not well-formed`);
    const predefined = PREDEFINED_ENTITIES[body];
    if (predefined !== undefined) return predefined;
    const numeric = /^#(?:x([0-9A-Fa-f]{1,6})|([0-9]{1,7}))$/.exec(body);
    if (numeric === null) throw new XmlReadError(`${where}: the entity ${whole} is not defined (only XML's five and character references are read)`);
    const codePoint = numeric[1] !== undefined ? Number.parseInt(numeric[1], 16) : Number(numeric[2]);
    if (!isXmlCharacter(codePoint)) throw new XmlReadError(`${where}: ${whole} refers to a character XML 1.0 does not allow`);
    return String.fromCodePoint(codePoint);
  });
}

/** XML 1.0 §2.2 Char. */
function isXmlCharacter(codePoint: number): boolean {
  return (
    codePoint === 0x9 ||
    codePoint === 0xa ||
    codePoint === 0xd ||
    (codePoint >= 0x20 && codePoint <= 0xd7ff) ||
    (codePoint >= 0xe000 && codePoint <= 0xfffd) ||
    (codePoint >= 0x10000 && codePoint <= 0x10ffff)
  );
}
