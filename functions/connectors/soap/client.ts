/**
 * A generic SOAP client on Harmony's shared HTTP path (`VendorHttp`: rate budget,
 * timeouts, Retry-After, classification of transport failures). It writes SOAP 1.1
 * (`text/xml` + `SOAPAction`) or 1.2 (`application/soap+xml; action=…`) envelopes with
 * every value escaped, adds HTTP Basic and/or a WS-Security UsernameToken, and reads the
 * answer with hostile XML refused. Every failure ends in one of Harmony's two families:
 *
 * - a SOAP Fault → PermanentError with the Fault's text, unless the classifier (the
 *   adapter's first, then the default) says it means "try again" → RetryableError;
 * - HTTP 5xx without a Fault → RetryableError; other 4xx → PermanentError;
 * - a body that is not a SOAP envelope → PermanentError `malformed-response`;
 * - a value that XML cannot carry → PermanentError `invalid-request` naming the field.
 */
import { PermanentError, RetryableError, errorForHttpStatus } from '../../core/errors.ts';
import type { RateLimiter } from '../../core/rate-limit.ts';
import { VendorHttp, type VendorResponse } from '../../core/vendor-http.ts';
import { readEnvelope, writeEnvelope, type SoapEnvelope, type SoapFault, type SoapVersion } from './envelope.ts';
import { defaultFaultVerdict, type FaultClassifier } from './fault-classifier.ts';
import { usernameTokenHeader, type UsernameTokenCredentials } from './ws-security.ts';
import { readXml, XmlReadError, type XmlElement } from './xml-reader.ts';
import { XmlWriteError, type XmlElementSpec } from './xml-writer.ts';

/** How to reach one SOAP service account. */
export interface SoapClientOptions {
  /** The system name errors carry, e.g. `dynamics-nav`. */
  readonly system: string;
  /** @default '1.1' */
  readonly version?: SoapVersion;
  readonly timeoutMs: number;
  readonly rateLimiter?: RateLimiter | undefined;
  /** The rate budget's key. @default system */
  readonly rateLimitTarget?: string;
  /** HTTP Basic credentials (`Authorization: Basic`, UTF-8). */
  readonly basicAuth?: UsernameTokenCredentials;
  /** WS-Security UsernameToken (PasswordText) credentials, sent in a `wsse:Security` header. */
  readonly wsSecurity?: UsernameTokenCredentials;
  /** The adapter's reading of its vendor's Faults, consulted before the default. */
  readonly classifyFault?: FaultClassifier;
  /** Characters an answer may have. @default 10_000_000 */
  readonly maxResponseLength?: number;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

/** One call. */
export interface SoapCall {
  /** What the call does, for messages, e.g. `SalesOrder.Read`. */
  readonly operation: string;
  readonly url: string | URL;
  /** The operation's SOAP action (the WSDL's `soapAction`), e.g. `urn:microsoft-dynamics-schemas/page/customer:Read`. */
  readonly action: string;
  /** The body's element, e.g. `{ name: 'Read', namespace: 'urn:…', content: { No: '10000' } }`. */
  readonly body: XmlElementSpec;
  /** Further header blocks (the WS-Security one is added by the client). */
  readonly headers?: readonly XmlElementSpec[];
}

/** A successful answer. */
export interface SoapAnswer {
  readonly version: SoapVersion;
  readonly status: number;
  readonly headers: readonly XmlElement[];
  /** The Body's first element, e.g. `Read_Result`; undefined for an empty Body. */
  readonly payload: XmlElement | undefined;
}

/** HTTP statuses that may carry a SOAP Fault: 500 (1.1 and 1.2 Receiver) and 400 (1.2 Sender). */
const FAULT_STATUSES = [400, 500] as const;

/** A SOAP client for one endpoint family and one set of credentials. */
export class SoapClient {
  readonly system: string;
  private readonly options: SoapClientOptions;
  private readonly version: SoapVersion;
  private readonly http: VendorHttp;

  constructor(options: SoapClientOptions) {
    this.system = options.system;
    this.options = options;
    this.version = options.version ?? '1.1';
    this.http = new VendorHttp({
      system: options.system,
      timeoutMs: options.timeoutMs,
      rateLimiter: options.rateLimiter,
      ...(options.rateLimitTarget === undefined ? {} : { rateLimitTarget: options.rateLimitTarget }),
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
      describeFailure: describeHttpFailure,
    });
  }

  /** Sends the call; the answer's payload, or RetryableError/PermanentError as the module doc says. */
  async call(call: SoapCall): Promise<SoapAnswer> {
    const request = this.envelope(call);
    const response = await this.http.request({
      operation: call.operation,
      method: 'POST',
      url: call.url,
      headers: this.httpHeaders(call.action),
      body: request,
      passStatuses: FAULT_STATUSES,
    });
    const envelope = this.read(call.operation, response);
    if (envelope.fault !== undefined) throw this.faultError(call.operation, envelope.fault, response.status);
    if (response.status >= 400) {
      throw errorForHttpStatus(response.status, `${this.system} ${call.operation}: HTTP ${response.status} with a SOAP answer that is not a Fault`, { system: this.system });
    }
    return { version: envelope.version, status: response.status, headers: envelope.headers, payload: envelope.payload };
  }

  private envelope(call: SoapCall): string {
    const headers = [...(call.headers ?? [])];
    if (this.options.wsSecurity !== undefined) headers.unshift(usernameTokenHeader(this.options.wsSecurity));
    try {
      return writeEnvelope(this.version, call.body, headers);
    } catch (error) {
      if (!(error instanceof XmlWriteError)) throw error;
      throw new PermanentError(`${this.system} ${call.operation}: cannot send ${error.message}`, { system: this.system, code: 'invalid-request', cause: error });
    }
  }

  private httpHeaders(action: string): Record<string, string> {
    const headers: Record<string, string> =
      this.version === '1.1'
        ? { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `"${action.replace(/["\\]/g, '')}"` }
        : { 'Content-Type': `application/soap+xml; charset=utf-8; action="${action.replace(/["\\]/g, '')}"` };
    headers.Accept = this.version === '1.1' ? 'text/xml' : 'application/soap+xml';
    const basic = this.options.basicAuth;
    if (basic !== undefined) headers.Authorization = `Basic ${Buffer.from(`${basic.username}:${basic.password}`, 'utf8').toString('base64')}`;
    return headers;
  }

  /** The answer as an envelope; a body that is not one is retryable after a 5xx, else permanent. */
  private read(operation: string, response: VendorResponse): SoapEnvelope {
    try {
      return readEnvelope(readXml(response.text, { maxLength: this.options.maxResponseLength ?? 10_000_000 }));
    } catch (error) {
      if (!(error instanceof XmlReadError)) throw error;
      const snippet = JSON.stringify(response.text.slice(0, 120));
      if (response.status >= 400) {
        throw errorForHttpStatus(response.status, `${this.system} ${operation}: HTTP ${response.status} without a SOAP Fault (${snippet})`, { system: this.system, cause: error });
      }
      throw new PermanentError(`${this.system} ${operation}: the answer is not a SOAP envelope — ${error.message} (${snippet})`, {
        system: this.system,
        code: 'malformed-response',
        cause: error,
      });
    }
  }

  private faultError(operation: string, fault: SoapFault, status: number): RetryableError | PermanentError {
    const verdict = this.options.classifyFault?.(fault) ?? defaultFaultVerdict(fault);
    const code = verdict.code ?? defaultFaultVerdict(fault).code;
    const detail = fault.detail === '' || fault.detail === fault.reason ? '' : ` (${fault.detail.slice(0, 300)})`;
    const message = `${this.system} ${operation}: SOAP Fault ${fault.code || '(no code)'} (HTTP ${status}): ${fault.reason || '(no text)'}${detail}`;
    const details = { system: this.system, ...(code === undefined ? {} : { code }), cause: fault };
    return verdict.retry ? new RetryableError(message, details) : new PermanentError(message, details);
  }
}

/** Says what an HTTP failure means before the body's first characters: 401/403 are about credentials. */
function describeHttpFailure(status: number, text: string): string {
  const snippet = text.trim().slice(0, 200);
  if (status === 401) return `authentication failed: the credentials were refused${snippet === '' ? '' : ` (${snippet})`}`;
  if (status === 403) return `access denied for these credentials${snippet === '' ? '' : ` (${snippet})`}`;
  return snippet;
}
