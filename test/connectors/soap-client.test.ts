/**
 * The generic SOAP client against a small SOAP server (node:http) that answers recorded
 * envelopes and Faults (SOAP 1.1 and 1.2 specifications' examples, under
 * test/fixtures/soap), checks SOAP 1.1/1.2 framing, HTTP Basic and WS-Security
 * UsernameToken credentials the way a service does, and misbehaves on purpose (HTML
 * error pages, 429, a request it never answers). Each case asserts the error family and
 * text Harmony's saga relies on.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../../functions/core/errors.ts';
import { SoapClient, type SoapClientOptions } from '../../functions/connectors/soap/client.ts';
import { writeFault } from '../../functions/connectors/soap/envelope.ts';
import { childElement } from '../../functions/connectors/soap/xml-reader.ts';
import { rejection } from '../support/failure.ts';

const fixture = (name: string): string => readFileSync(join(import.meta.dirname, '..', 'fixtures', 'soap', name), 'utf8');

const SOAP11 = 'http://schemas.xmlsoap.org/soap/envelope/';
const SOAP12 = 'http://www.w3.org/2003/05/soap-envelope';
const ECHO_ACTION = 'urn:test:echo:Echo';
const USER = 'WEBSERVICE';
const PASSWORD = 'pässwörd&<secret>';

/** Reads what a SOAP server reads from a request body: fast-xml-parser, prefixes removed (not the client's own reader). */
const serverParser = new XMLParser({ removeNSPrefix: true, ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: false, processEntities: true, htmlEntities: true, trimValues: false });

function envelope(version: '1.1' | '1.2', body: string): string {
  return `<?xml version="1.0" encoding="utf-8"?><e:Envelope xmlns:e="${version === '1.1' ? SOAP11 : SOAP12}"><e:Body>${body}</e:Body></e:Envelope>`;
}

/** The Body's inner XML of a request, cut out as text: the echo service answers it back inside EchoResult. */
function bodyInner(xml: string): string {
  return xml.slice(xml.indexOf('<soap:Body>') + '<soap:Body>'.length, xml.lastIndexOf('</soap:Body>'));
}

/** The WS-Security 1.0 fault for credentials that do not authenticate (WSS SOAP Message Security §12). */
function wsseFault(): string {
  return envelope('1.1', `<e:Fault><faultcode xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecext-1.0.xsd">wsse:FailedAuthentication</faultcode><faultstring>The security token could not be authenticated or authorized</faultstring></e:Fault>`);
}

function answer(response: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'Content-Type': contentType, ...headers });
  response.end(body);
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** A SOAP test service: each path behaves as one kind of endpoint. */
function route(path: string, request: IncomingMessage, body: string, response: ServerResponse): void {
  const fixtureMatch = /^\/fixture\/([\w.-]+)\/(\d{3})$/.exec(path);
  if (fixtureMatch !== null) return answer(response, Number(fixtureMatch[2]), 'text/xml; charset=utf-8', fixture(fixtureMatch[1]!));
  switch (path) {
    case '/echo11': {
      if (!/^text\/xml/.test(request.headers['content-type'] ?? '') || request.headers.soapaction !== `"${ECHO_ACTION}"`) {
        return answer(response, 415, 'text/html', '<html><body>Unsupported Media Type</body></html>');
      }
      return answer(response, 200, 'text/xml; charset=utf-8', envelope('1.1', `<EchoResult xmlns="urn:test:echo">${bodyInner(body)}</EchoResult>`));
    }
    case '/echo12': {
      const contentType = request.headers['content-type'] ?? '';
      if (!contentType.startsWith('application/soap+xml') || !contentType.includes(`action="${ECHO_ACTION}"`)) {
        return answer(response, 415, 'text/html', '<html><body>Unsupported Media Type</body></html>');
      }
      return answer(response, 200, 'application/soap+xml; charset=utf-8', envelope('1.2', `<EchoResult xmlns="urn:test:echo">${bodyInner(body)}</EchoResult>`));
    }
    case '/basic': {
      const expected = `Basic ${Buffer.from(`${USER}:${PASSWORD}`, 'utf8').toString('base64')}`;
      if (request.headers.authorization !== expected) return answer(response, 401, 'text/html', '', { 'WWW-Authenticate': 'Basic realm="test"' });
      return answer(response, 200, 'text/xml', envelope('1.1', '<PingResult xmlns="urn:test"/>'));
    }
    case '/wsse': {
      const parsed = serverParser.parse(body) as { Envelope?: { Header?: { Security?: { UsernameToken?: { Username?: string; Password?: { '#text'?: string; Type?: string }; Nonce?: unknown; Created?: string } } } } };
      const token = parsed.Envelope?.Header?.Security?.UsernameToken;
      const valid =
        token?.Username === USER &&
        token.Password?.['#text'] === PASSWORD &&
        token.Password.Type?.endsWith('#PasswordText') === true &&
        token.Nonce !== undefined &&
        Math.abs(Date.parse(token.Created ?? '') - Date.now()) < 300_000;
      return valid ? answer(response, 200, 'text/xml', envelope('1.1', '<PingResult xmlns="urn:test"/>')) : answer(response, 500, 'text/xml', wsseFault());
    }
    case '/busy12':
      return answer(response, 500, 'application/soap+xml', writeFault('1.2', { code: 'soap:Receiver', reason: 'Server busy, try again later' }));
    case '/throttled':
      return answer(response, 429, 'text/html', '<html><body>Too Many Requests</body></html>', { 'Retry-After': '7' });
    case '/html-500':
      return answer(response, 500, 'text/html', '<!DOCTYPE html><html><body><h1>Server Error</h1></body></html>');
    case '/html-200':
      return answer(response, 200, 'text/html', '<html><body>Welcome to our portal</body></html>');
    case '/bomb':
      return answer(response, 200, 'text/xml', `<?xml version="1.0"?><!DOCTYPE e [<!ENTITY a "${'x'.repeat(50)}"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><e:Envelope xmlns:e="${SOAP11}"><e:Body><R>&b;</R></e:Body></e:Envelope>`);
    case '/hold':
      return; // never answers
    default:
      return answer(response, 404, 'text/plain', 'Not Found');
  }
}

let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    readBody(request).then((body) => route(new URL(request.url ?? '/', 'http://test').pathname, request, body, response), () => response.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
});

function client(options: Partial<SoapClientOptions> = {}): SoapClient {
  return new SoapClient({ system: 'testsoap', timeoutMs: 1_500, ...options });
}

/** A call to the test service's `Op` at `path`. */
const call = (path: string) => ({ operation: 'Op', url: `${base}${path}`, action: 'urn:test:Op', body: { name: 'Op', namespace: 'urn:test' } });

const echo = (path: string) => ({ operation: 'Echo', url: `${base}${path}`, action: ECHO_ACTION, body: { name: 'Echo', namespace: 'urn:test:echo', content: { Deal: { Name: `Müller & Söhne <GmbH> "Nord" 'Süd' \r\n😀` } } } });

describe('SoapClient framing', () => {
  it('sends SOAP 1.1 (text/xml + SOAPAction) and reads the answer with prefixes resolved', async () => {
    const answer = await client().call(echo('/echo11'));
    expect(answer.version).toBe('1.1');
    expect(answer.payload?.name).toBe('EchoResult');
    const echoed = childElement(childElement(answer.payload!, 'Echo')!, 'Deal')!;
    expect(childElement(echoed, 'Name')!.text).toBe(`Müller & Söhne <GmbH> "Nord" 'Süd' \r\n😀`);
  });

  it('sends SOAP 1.2 (application/soap+xml with the action parameter)', async () => {
    const answer = await client({ version: '1.2' }).call(echo('/echo12'));
    expect(answer.version).toBe('1.2');
    expect(answer.payload?.name).toBe('EchoResult');
  });

  it('a SOAP 1.1 request to a SOAP 1.2 endpoint is refused permanently (415)', async () => {
    const error = await rejection(client().call(echo('/echo12')));
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toMatch(/testsoap Echo: HTTP 415/);
  });

  it('refuses to send a value XML cannot carry, naming the field, as a PermanentError', async () => {
    const error = await rejection(client().call({ ...echo('/echo11'), body: { name: 'Echo', namespace: 'urn:test:echo', content: { Deal: { Name: 'bell\u0007' } } } }));
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as PermanentError).code).toBe('invalid-request');
    expect(error.message).toMatch(/Echo\.Deal\.Name: contains U\+0007/);
  });
});

describe('SoapClient credentials', () => {
  it('HTTP Basic with UTF-8 credentials is accepted; wrong ones are a PermanentError about credentials', async () => {
    const ping = { operation: 'Ping', url: `${base}/basic`, action: 'urn:test:Ping', body: { name: 'Ping', namespace: 'urn:test' } };
    expect((await client({ basicAuth: { username: USER, password: PASSWORD } }).call(ping)).payload?.name).toBe('PingResult');
    const error = await rejection(client({ basicAuth: { username: USER, password: 'wrong' } }).call(ping));
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toMatch(/HTTP 401 — authentication failed: the credentials were refused/);
  });

  it('WS-Security UsernameToken (PasswordText, Nonce, Created) is accepted; a wrong password gets the WSS Fault as a PermanentError', async () => {
    const ping = { operation: 'Ping', url: `${base}/wsse`, action: 'urn:test:Ping', body: { name: 'Ping', namespace: 'urn:test' } };
    expect((await client({ wsSecurity: { username: USER, password: PASSWORD } }).call(ping)).payload?.name).toBe('PingResult');
    const error = await rejection(client({ wsSecurity: { username: USER, password: 'wrong' } }).call(ping));
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toBe('testsoap Ping: SOAP Fault wsse:FailedAuthentication (HTTP 500): The security token could not be authenticated or authorized');
    expect((error as PermanentError).code).toBe('FailedAuthentication');
  });
});

describe('SoapClient Faults', () => {
  it('SOAP 1.1 Fault (the specification example) is a PermanentError with faultstring and detail', async () => {
    const error = await rejection(client().call(call('/fixture/soap11-fault-server.xml/500')));
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toBe("testsoap Op: SOAP Fault SOAP-ENV:Server (HTTP 500): Server Error (My application didn't work 1001)");
    expect((error as PermanentError).code).toBe('Server');
  });

  it('SOAP 1.2 Fault: Code/Value, Subcode and the English Reason/Text', async () => {
    const error = await rejection(client({ version: '1.2' }).call(call('/fixture/soap12-fault-sender-bad-arguments.xml/400')));
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toBe('testsoap Op: SOAP Fault env:Sender (HTTP 400): Processing error (Name does not match card number 999)');
  });

  it('a Fault that says "try again" (a timeout) is a RetryableError by default', async () => {
    const error = await rejection(client({ version: '1.2' }).call(call('/fixture/soap12-fault-sender-timeout.xml/400')));
    expect(error).toBeInstanceOf(RetryableError);
    expect(error.message).toMatch(/Sender Timeout/);
  });

  it('a SOAP 1.2 Receiver Fault saying the server is busy is a RetryableError', async () => {
    const error = await rejection(client({ version: '1.2' }).call(call('/busy12')));
    expect(error).toBeInstanceOf(RetryableError);
    expect(error.message).toBe('testsoap Op: SOAP Fault soap:Receiver (HTTP 500): Server busy, try again later');
  });

  it('the adapter classifier decides first: the same Fault made permanent with a code of its own', async () => {
    const strict = client({ version: '1.2', classifyFault: (fault) => (fault.subcodes.includes('m:MessageTimeout') ? { retry: false, code: 'message-timeout' } : undefined) });
    const error = await rejection(strict.call(call('/fixture/soap12-fault-sender-timeout.xml/400')));
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as PermanentError).code).toBe('message-timeout');
  });
});

describe('SoapClient transport failures', () => {
  it('HTTP 5xx without a Fault (an HTML error page) is a RetryableError', async () => {
    const error = await rejection(client().call(call('/html-500')));
    expect(error).toBeInstanceOf(RetryableError);
    expect(error.message).toMatch(/HTTP 500 without a SOAP Fault/);
  });

  it('a 200 whose body is not a SOAP envelope is a PermanentError malformed-response', async () => {
    const error = await rejection(client().call(call('/html-200')));
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as PermanentError).code).toBe('malformed-response');
    expect(error.message).toMatch(/testsoap Op: the answer is not a SOAP envelope — the root element is <html>/);
  });

  it('an entity bomb in an answer is refused as malformed, not expanded', async () => {
    const error = await rejection(client().call(call('/bomb')));
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as PermanentError).code).toBe('malformed-response');
    expect(error.message).toMatch(/document type declaration/);
  });

  it('429 with Retry-After is a RetryableError carrying the wait', async () => {
    const error = await rejection(client().call(call('/throttled')));
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as RetryableError).retryAfterSeconds).toBe(7);
  });

  it('a call the server never answers is a RetryableError timeout', async () => {
    const error = await rejection(client({ timeoutMs: 300 }).call(call('/hold')));
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as RetryableError).code).toBe('timeout');
  });
});
