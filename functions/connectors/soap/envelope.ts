/**
 * SOAP envelopes: writing a request (SOAP 1.1 or 1.2) around a body element built from
 * plain objects, and reading an answer's envelope into its header blocks, its payload
 * and its Fault (1.1 `faultcode`/`faultstring`/`detail`, 1.2 `Code/Value`,
 * `Code/Subcode/Value`, `Reason/Text`, `Detail`). Transport and error families are in
 * `client.ts`; this file only knows the envelope's shape.
 */
import { childElement, XmlReadError, type XmlElement } from './xml-reader.ts';
import { writeElement, type XmlElementSpec } from './xml-writer.ts';

/** The two SOAP versions. */
export type SoapVersion = '1.1' | '1.2';

/** Envelope namespace of each version (SOAP 1.1 §4.1.2, SOAP 1.2 Part 1 §5.1). */
export const SOAP_ENVELOPE_NAMESPACE: Readonly<Record<SoapVersion, string>> = {
  '1.1': 'http://schemas.xmlsoap.org/soap/envelope/',
  '1.2': 'http://www.w3.org/2003/05/soap-envelope',
};

/** A SOAP Fault as either version carries it. */
export interface SoapFault {
  readonly version: SoapVersion;
  /** The fault code as written, e.g. `soap:Server`, `env:Receiver`, `a:Microsoft.Dynamics.Nav.Types.Exceptions.NavCSideException`. */
  readonly code: string;
  /** SOAP 1.2 subcodes, outermost first (empty for 1.1). */
  readonly subcodes: readonly string[];
  /** `faultstring` (1.1) or the English (else first) `Reason/Text` (1.2). */
  readonly reason: string;
  /** The text inside `detail`/`Detail`, whitespace collapsed; '' when absent. */
  readonly detail: string;
}

/** An answer's envelope, read. */
export interface SoapEnvelope {
  readonly version: SoapVersion;
  readonly headers: readonly XmlElement[];
  /** The first element in the Body (the operation's response), undefined for an empty Body. */
  readonly payload: XmlElement | undefined;
  /** Set when the Body holds a Fault. */
  readonly fault: SoapFault | undefined;
}

/** A request envelope: the body element and any header blocks, in the given version. */
export function writeEnvelope(version: SoapVersion, body: XmlElementSpec, headers: readonly XmlElementSpec[] = []): string {
  const namespace = SOAP_ENVELOPE_NAMESPACE[version];
  const header = headers.length === 0 ? '' : `<soap:Header>${headers.map((block) => writeElement(block, `Header.${block.name}`)).join('')}</soap:Header>`;
  return `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${namespace}">${header}<soap:Body>${writeElement(body)}</soap:Body></soap:Envelope>`;
}

/** An answer's Fault as a server writes it (used by sandboxes): `code` is written as given. */
export function writeFault(version: SoapVersion, fault: { readonly code: string; readonly codeNamespaces?: Readonly<Record<string, string>>; readonly reason: string; readonly detail?: XmlElementSpec }): string {
  const namespace = SOAP_ENVELOPE_NAMESPACE[version];
  const codeAttributes = Object.fromEntries(Object.entries(fault.codeNamespaces ?? {}).map(([prefix, uri]) => [`xmlns:${prefix}`, uri]));
  const content: XmlElementSpec[] =
    version === '1.1'
      ? [
          { name: 'faultcode', attributes: codeAttributes, content: fault.code },
          { name: 'faultstring', attributes: { 'xml:lang': 'en-US' }, content: fault.reason },
          ...(fault.detail === undefined ? [] : [{ name: 'detail', content: [fault.detail] }]),
        ]
      : [
          { name: 'Code', prefix: 'soap', content: [{ name: 'Value', prefix: 'soap', attributes: codeAttributes, content: fault.code }] },
          { name: 'Reason', prefix: 'soap', content: [{ name: 'Text', prefix: 'soap', attributes: { 'xml:lang': 'en-US' }, content: fault.reason }] },
          ...(fault.detail === undefined ? [] : [{ name: 'Detail', prefix: 'soap', content: [fault.detail] }]),
        ];
  const faultElement = writeElement({ name: 'Fault', prefix: 'soap', content });
  return `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${namespace}"><soap:Body>${faultElement}</soap:Body></soap:Envelope>`;
}

/** Reads a parsed document as a SOAP envelope; XmlReadError when it is not one. */
export function readEnvelope(root: XmlElement): SoapEnvelope {
  const version = (Object.keys(SOAP_ENVELOPE_NAMESPACE) as SoapVersion[]).find((candidate) => SOAP_ENVELOPE_NAMESPACE[candidate] === root.namespace);
  if (root.name !== 'Envelope' || version === undefined) {
    throw new XmlReadError(`the root element is <${root.name}>${root.namespace === '' ? '' : ` in ${root.namespace}`}, not a SOAP 1.1 or 1.2 Envelope`);
  }
  const namespace = SOAP_ENVELOPE_NAMESPACE[version];
  const body = childElement(root, 'Body', namespace);
  if (body === undefined) throw new XmlReadError('the SOAP Envelope has no Body');
  const header = childElement(root, 'Header', namespace);
  const payload = body.children[0];
  const fault = payload !== undefined && payload.name === 'Fault' && payload.namespace === namespace ? readFault(version, payload) : undefined;
  return { version, headers: header?.children ?? [], payload: fault === undefined ? payload : undefined, fault };
}

function readFault(version: SoapVersion, fault: XmlElement): SoapFault {
  if (version === '1.1') {
    // SOAP 1.1 §4.4: faultcode, faultstring, detail are unqualified children of Fault.
    return {
      version,
      code: childElement(fault, 'faultcode')?.text.trim() ?? '',
      subcodes: [],
      reason: childElement(fault, 'faultstring')?.text.trim() ?? '',
      detail: flattenText(childElement(fault, 'detail')),
    };
  }
  const namespace = SOAP_ENVELOPE_NAMESPACE['1.2'];
  const code = childElement(fault, 'Code', namespace);
  const subcodes: string[] = [];
  for (let subcode = code === undefined ? undefined : childElement(code, 'Subcode', namespace); subcode !== undefined; subcode = childElement(subcode, 'Subcode', namespace)) {
    subcodes.push(childElement(subcode, 'Value', namespace)?.text.trim() ?? '');
  }
  const texts = (childElement(fault, 'Reason', namespace)?.children ?? []).filter((child) => child.name === 'Text');
  const reason = texts.find((text) => /^en\b/i.test(text.attributes.lang ?? '')) ?? texts[0];
  return {
    version,
    code: (code === undefined ? undefined : childElement(code, 'Value', namespace))?.text.trim() ?? '',
    subcodes,
    reason: reason?.text.trim() ?? '',
    detail: flattenText(childElement(fault, 'Detail', namespace)),
  };
}

function flattenText(element: XmlElement | undefined): string {
  if (element === undefined) return '';
  const parts: string[] = [];
  const visit = (node: XmlElement): void => {
    if (node.text.trim() !== '') parts.push(node.text.trim());
    node.children.forEach(visit);
  };
  visit(element);
  return parts.join(' ').replace(/\s+/g, ' ');
}
