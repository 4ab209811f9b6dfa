/**
 * The SOAP client's XML: every value it writes comes back as the same text through an
 * independent XML parser (fast-xml-parser with entity decoding) and through our reader;
 * characters XML cannot carry are refused naming the field; hostile documents (entity
 * bombs, external entities, undeclared entities, deep nesting, truncation) are refused
 * rather than expanded; prefixes are resolved to namespaces.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { readEnvelope, writeEnvelope } from '../../functions/connectors/soap/envelope.ts';
import { childElement, elementToPlain, readXml, XmlReadError } from '../../functions/connectors/soap/xml-reader.ts';
import { decimalText, XmlWriteError } from '../../functions/connectors/soap/xml-writer.ts';

const fixture = (name: string): string => readFileSync(join(import.meta.dirname, '..', 'fixtures', 'soap', name), 'utf8');

/** fast-xml-parser set to decode entities and character references: a second opinion on what the XML says. */
const independent = new XMLParser({ processEntities: true, htmlEntities: true, trimValues: false, parseTagValue: false, ignoreAttributes: false, attributeNamePrefix: '' });

/** Characters XML 1.0 can carry (§2.2), i.e. what a CRM value may hold. */
const xmlText = fc.string({ unit: 'binary', maxLength: 60 }).map((text) => text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/gu, ''));

function refusal(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to throw');
}

describe('writing envelopes', () => {
  it('every value comes back unchanged through an independent parser and through the reader', () => {
    fc.assert(
      fc.property(xmlText, xmlText, (name, note) => {
        const xml = writeEnvelope('1.1', { name: 'Create', namespace: 'urn:test', content: { Customer: { Name: name, Note: note } } });
        expect(XMLValidator.validate(xml)).toBe(true);
        const parsed = independent.parse(xml) as { 'soap:Envelope': { 'soap:Body': { Create: { Customer: { Name: string; Note: string } } } } };
        const customer = parsed['soap:Envelope']['soap:Body'].Create.Customer;
        expect(String(customer.Name ?? '')).toBe(name);
        expect(String(customer.Note ?? '')).toBe(note);
        const payload = readEnvelope(readXml(xml)).payload!;
        expect(elementToPlain(childElement(payload, 'Customer')!)).toEqual({ Name: name, Note: note });
      }),
      { numRuns: 300 },
    );
  });

  it('keeps markup, quotes, ampersands, CR/LF/tab and astral characters in a deal name as text', () => {
    const name = `Müller & Söhne <GmbH> "Nord" 'Süd' ]]> \r\n\t 😀 &amp;`;
    const xml = writeEnvelope('1.2', { name: 'Create', namespace: 'urn:test', content: { Deal: { Name: name } } });
    const payload = readEnvelope(readXml(xml)).payload!;
    expect(childElement(childElement(payload, 'Deal')!, 'Name')!.text).toBe(name);
  });

  it('refuses a control character XML cannot carry, naming the field and the character', () => {
    const error = refusal(() => writeEnvelope('1.1', { name: 'Create', namespace: 'urn:test', content: { Customer: { Name: 'Nord\u0007wind' } } }));
    expect(error).toBeInstanceOf(XmlWriteError);
    expect(error.message).toBe('Create.Customer.Name: contains U+0007 at position 4, a character XML 1.0 cannot carry');
  });

  it('refuses a lone surrogate and an element name that is not XML', () => {
    expect(refusal(() => writeEnvelope('1.1', { name: 'X', content: { Name: 'a\uD800b' } })).message).toMatch(/X\.Name: contains U\+D800/);
    expect(refusal(() => writeEnvelope('1.1', { name: 'X', content: { 'Name><evil': 'a' } })).message).toMatch(/is not an XML element name/);
  });

  it('writes repeated elements for lists, empty elements for null and nothing for undefined', () => {
    const xml = writeEnvelope('1.1', { name: 'ReadMultiple', namespace: 'urn:test', content: { filter: [{ Field: 'A', Criteria: '1' }, { Field: 'B', Criteria: '2' }], bookmarkKey: undefined, setSize: 0, Empty: null } });
    expect(xml).toContain('<ReadMultiple xmlns="urn:test"><filter><Field>A</Field><Criteria>1</Criteria></filter><filter><Field>B</Field><Criteria>2</Criteria></filter><setSize>0</setSize><Empty/></ReadMultiple>');
  });

  it('writes numbers as xs:decimal, never in exponent notation, and refuses what is not a number', () => {
    expect(decimalText(0.0000001, 'x')).toBe('0.0000001');
    expect(decimalText(1234.5, 'x')).toBe('1234.5');
    expect(decimalText(-42, 'x')).toBe('-42');
    expect(refusal(() => decimalText(Number.NaN, 'Line.Quantity')).message).toBe('Line.Quantity: NaN is not a finite number');
  });
});

describe('reading answers', () => {
  it('resolves prefixes to namespaces, whatever prefixes the server chose', () => {
    const envelope = readEnvelope(readXml(fixture('nav-read-multiple-prefixed.xml')));
    expect(envelope.version).toBe('1.1');
    expect(envelope.payload).toMatchObject({ name: 'ReadMultiple_Result', namespace: 'urn:microsoft-dynamics-schemas/page/customer' });
    expect(elementToPlain(envelope.payload!)).toEqual({
      ReadMultiple_Result: { Customer: [{ Key: 'k1', No: '1', Name: 'A' }, { Key: 'k2', No: '2', Name: 'B & C' }] },
    });
  });

  it('refuses an entity bomb without expanding it', () => {
    const bomb = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">${Array.from({ length: 9 }, (_, level) => `<!ENTITY lol${level + 1} "${`&lol${level === 0 ? '' : level};`.repeat(10)}">`).join('')}]><lolz>&lol9;</lolz>`;
    const error = refusal(() => readXml(bomb));
    expect(error).toBeInstanceOf(XmlReadError);
    expect(error.message).toMatch(/document type declaration .* refused/);
  });

  it('refuses external entities and external DTDs', () => {
    expect(refusal(() => readXml('<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><x>&xxe;</x>')).message).toMatch(/refused/);
    expect(refusal(() => readXml('<?xml version="1.0"?><!DOCTYPE x SYSTEM "http://attacker.example/x.dtd"><x/>')).message).toMatch(/refused/);
  });

  it('refuses an entity that is not defined instead of passing it on as text', () => {
    expect(refusal(() => readXml('<x>&nbsp;</x>')).message).toMatch(/the entity &nbsp; is not defined/);
    expect(refusal(() => readXml('<x>&#1;</x>')).message).toMatch(/not allow/);
  });

  it('refuses nesting deeper than the limit before parsing it', () => {
    const deep = `${'<a>'.repeat(100_000)}${'</a>'.repeat(100_000)}`;
    expect(refusal(() => readXml(deep)).message).toBe('elements are nested 100000 deep; at most 256 are read');
  });

  it('refuses truncated documents, several roots and documents over the size limit', () => {
    const whole = fixture('nav-read-multiple-prefixed.xml');
    expect(refusal(() => readXml(whole.slice(0, whole.length / 2))).message).toMatch(/not well-formed XML/);
    expect(refusal(() => readXml('<a/><b/>')).message).toBe('expected one root element, found 2');
    expect(refusal(() => readXml(whole, { maxLength: 100 })).message).toMatch(/at most 100 are read/);
  });

  it('refuses a document that is XML but not a SOAP envelope', () => {
    expect(refusal(() => readEnvelope(readXml('<html><body>Service Unavailable</body></html>'))).message).toBe('the root element is <html>, not a SOAP 1.1 or 1.2 Envelope');
  });
});
