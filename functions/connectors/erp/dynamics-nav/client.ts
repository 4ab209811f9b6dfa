/**
 * Transport to Microsoft Dynamics NAV / Business Central on-premises SOAP web services:
 * page services at `<base>/Page/<Service>` (namespace
 * `urn:microsoft-dynamics-schemas/page/<service in lower case>`, operations `Read`,
 * `ReadMultiple`, `Create`, `Delete`) and codeunit services at `<base>/Codeunit/<Name>`
 * (`urn:microsoft-dynamics-schemas/codeunit/<Name>`), over SOAP 1.1 with HTTP Basic
 * (NavUserPassword). It knows NAV's Faults: a stale `Key` ("Another user has modified
 * the record…") and lock waits are retryable, a missing record is `not-found`, the
 * rest are business rejections. Nothing here knows customers or orders.
 */
import { PermanentError } from '../../../core/errors.ts';
import type { RateLimiter } from '../../../core/rate-limit.ts';
import { SoapClient } from '../../soap/client.ts';
import type { SoapFault } from '../../soap/envelope.ts';
import { localPart, type FaultVerdict } from '../../soap/fault-classifier.ts';
import { childElement, type XmlElement } from '../../soap/xml-reader.ts';
import type { XmlFields } from '../../soap/xml-writer.ts';

const SYSTEM = 'dynamics-nav';

/** Where and as whom to call NAV. */
export interface NavClientOptions {
  /** The company's web service base, `…/<ServerInstance>/WS/<Company>` (company URL-encoded). */
  readonly baseUrl: URL;
  readonly username: string;
  readonly password: string;
  readonly timeoutMs: number;
  readonly rateLimiter?: RateLimiter | undefined;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

/** One `Entity_Filter` of ReadMultiple: a page field and a NAV filter expression. */
export interface NavFilter {
  readonly field: string;
  readonly criteria: string;
}

/** Error code of a Fault that says the record's `Key` is stale (another session changed it). */
export const STALE_KEY = 'stale-key';
/** Error code of a Fault or empty Read that says the record does not exist. */
export const NOT_FOUND = 'not-found';

/** NAV's wording for a record changed since its Key was read (Update/Delete Faults, and the runtime's concurrency error). */
const STALE_KEY_WORDING = /(?:another|other) user has modified/i;
/** NAV's wording for lock waits, deadlocks and busy servers: "…was locked by another user. Please retry the activity.", "We could not update the data right now. Please try again later." */
const TRANSIENT_WORDING = /locked (?:by|for use in) another|deadlock|please retry|try again|server (?:is )?busy|timed? ?out/i;

/** Sorts a NAV Fault: stale Key and lock waits retry; record-not-found and everything else are permanent. */
export function classifyNavFault(fault: SoapFault): FaultVerdict {
  const text = `${fault.reason} ${fault.detail}`;
  if (STALE_KEY_WORDING.test(text)) return { retry: true, code: STALE_KEY };
  if (TRANSIENT_WORDING.test(text)) return { retry: true, code: 'busy' };
  const exception = localPart(fault.code);
  if (/RecordNotFound/i.test(exception) || /does not exist\./i.test(fault.reason)) return { retry: false, code: NOT_FOUND };
  return { retry: false, code: exception.split('.').pop() || 'soap-fault' };
}

/** Calls one NAV company's page and codeunit web services. */
export class NavClient {
  private readonly soap: SoapClient;
  private readonly base: string;

  constructor(options: NavClientOptions) {
    this.base = options.baseUrl.toString().replace(/\/+$/, '');
    this.soap = new SoapClient({
      system: SYSTEM,
      version: '1.1',
      timeoutMs: options.timeoutMs,
      rateLimiter: options.rateLimiter,
      rateLimitTarget: `${SYSTEM}:${options.baseUrl.host}${options.baseUrl.pathname}`,
      basicAuth: { username: options.username, password: options.password },
      classifyFault: classifyNavFault,
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    });
  }

  /** `Read`: the record with these primary key fields, or undefined when NAV has none (Read answers empty, not a Fault). */
  async read(service: string, key: XmlFields): Promise<XmlElement | undefined> {
    const result = await this.page(service, 'Read', key);
    return childElement(result, service);
  }

  /** `ReadMultiple`: at most `setSize` records matching every filter (0 = all, negative = from the end), after `bookmarkKey`. */
  async readMultiple(service: string, filters: readonly NavFilter[], setSize: number, bookmarkKey?: string): Promise<XmlElement[]> {
    const result = await this.page(service, 'ReadMultiple', {
      filter: filters.map((filter) => ({ Field: filter.field, Criteria: filter.criteria })),
      bookmarkKey,
      setSize,
    });
    // ReadMultiple_Result wraps the records in a second ReadMultiple_Result element.
    const list = childElement(result, 'ReadMultiple_Result') ?? result;
    return list.children.filter((child) => child.name === service);
  }

  /** `Create`: the record as NAV saved it (with its number, Key and computed fields). */
  async create(service: string, entity: XmlFields): Promise<XmlElement> {
    const result = await this.page(service, 'Create', { [service]: entity });
    const created = childElement(result, service);
    if (created === undefined) throw malformed(`${service}.Create`, `Create_Result has no ${service}`);
    return created;
  }

  /** `Delete`: true when NAV deleted the record (the page's OnDeleteRecord answer). */
  async delete(service: string, key: string): Promise<boolean> {
    const result = await this.page(service, 'Delete', { Key: key });
    const value = (childElement(result, 'Delete_Result') ?? result).text.trim();
    if (value !== 'true' && value !== 'false') throw malformed(`${service}.Delete`, `Delete_Result is ${JSON.stringify(value)}, not a boolean`);
    return value === 'true';
  }

  /** Calls `method(params)` of a published codeunit; the `<method>_Result` element. */
  async codeunit(name: string, method: string, params: XmlFields): Promise<XmlElement> {
    const namespace = `urn:microsoft-dynamics-schemas/codeunit/${name}`;
    return this.invoke(`${name}.${method}`, `${this.base}/Codeunit/${encodeURIComponent(name)}`, namespace, method, params);
  }

  private async page(service: string, operation: string, content: XmlFields): Promise<XmlElement> {
    const namespace = `urn:microsoft-dynamics-schemas/page/${service.toLowerCase()}`;
    return this.invoke(`${service}.${operation}`, `${this.base}/Page/${encodeURIComponent(service)}`, namespace, operation, content);
  }

  private async invoke(label: string, url: string, namespace: string, operation: string, content: XmlFields): Promise<XmlElement> {
    const answer = await this.soap.call({ operation: label, url, action: `${namespace}:${operation}`, body: { name: operation, namespace, content } });
    const result = answer.payload;
    if (result === undefined || result.name !== `${operation}_Result`) {
      throw malformed(label, `expected ${operation}_Result in the Body, got ${result === undefined ? 'nothing' : `<${result.name}>`}`);
    }
    return result;
  }
}

function malformed(operation: string, problem: string): PermanentError {
  return new PermanentError(`${SYSTEM} ${operation}: unexpected answer — ${problem}`, { system: SYSTEM, code: 'malformed-response' });
}
