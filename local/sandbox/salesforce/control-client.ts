/**
 * A client of the Salesforce sandbox's own control routes, for tests, demos and scripts:
 * seeding opportunities, reading records, expiring sessions, injecting faults and canned
 * answers. Every request carries `x-sandbox-faults: bypass`, so a harness's calls neither
 * suffer nor consume the faults meant for the system under test. Also an in-memory
 * Outbound Message queue that records what the sandbox hands it.
 */
import type { FaultRequest } from '../faults.ts';
import type { OpportunityRequest } from './opportunity-seeding.ts';
import type { OutboundMessageQueue } from './server.ts';

/** What `POST /__sandbox/opportunities` answers. */
export interface SeededOpportunityIds {
  readonly opportunityId: string;
  readonly accountId?: string;
  readonly contactId?: string;
  readonly lineItemIds: readonly string[];
  readonly stageName: string;
  readonly isWon: boolean;
  readonly amount: number | null;
}

/** A canned answer for the next call(s) of one operation. */
export interface CannedAnswer {
  /** e.g. `GET /sobjects/Opportunity`, `POST /services/oauth2/token`. */
  readonly operation: string;
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  readonly count?: number;
}

/** The sandbox's control routes. */
export class SandboxControl {
  readonly #url: string;

  /** @param url the sandbox's base URL */
  constructor(url: string) {
    this.#url = url;
  }

  /** Creates an Opportunity with account, contact role and lines (see opportunity-seeding.ts). */
  async seedOpportunity(request: Partial<OpportunityRequest> & Pick<OpportunityRequest, 'name'>): Promise<SeededOpportunityIds> {
    return (await this.#call('POST', '/__sandbox/opportunities', request, 201)) as SeededOpportunityIds;
  }

  /** Any record, as sObject Rows returns it (every field). */
  async record(id: string): Promise<Record<string, unknown>> {
    return (await this.#call('GET', `/__sandbox/records/${encodeURIComponent(id)}`, undefined, 200)) as Record<string, unknown>;
  }

  /** Ends every session the sandbox issued. */
  async expireTokens(): Promise<void> {
    await this.#call('POST', '/__sandbox/expire-tokens', undefined, 200);
  }

  /** Fails the next matching call(s). */
  async injectFault(fault: Partial<FaultRequest> & Pick<FaultRequest, 'kind'>): Promise<void> {
    await this.#call('POST', '/__sandbox/faults', { count: 1, ...fault }, 201);
  }

  /** Forgets pending faults. */
  async clearFaults(): Promise<void> {
    await this.#call('DELETE', '/__sandbox/faults', undefined, 204);
  }

  /** Answers the next call(s) of an operation with a recorded answer. */
  async cannedAnswer(answer: CannedAnswer): Promise<void> {
    await this.#call('POST', '/__sandbox/responses', answer, 201);
  }

  /** Forgets pending canned answers. */
  async clearCannedAnswers(): Promise<void> {
    await this.#call('DELETE', '/__sandbox/responses', undefined, 204);
  }

  async #call(method: string, path: string, body: unknown, expected: number): Promise<unknown> {
    const response = await fetch(`${this.#url}${path}`, {
      method,
      headers: { 'x-sandbox-faults': 'bypass', 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    if (response.status !== expected) throw new Error(`salesforce sandbox ${method} ${path}: HTTP ${response.status} ${text.slice(0, 500)}`);
    return text === '' ? undefined : JSON.parse(text);
  }
}

/** An Outbound Message queue that keeps what it is given, in order (tests, demos without an ingress). */
export class RecordingOutboundQueue implements OutboundMessageQueue {
  readonly messages: Record<string, string | number | boolean | null>[] = [];
  closed = false;

  enqueue(_sObjectType: 'Opportunity', fields: Record<string, string | number | boolean | null>): void {
    this.messages.push({ ...fields });
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}
