/**
 * The one contract every CrmPort adapter passes, against its sandbox: the same cases for
 * HubSpot, Salesforce and Pipedrive. An adapter's own test file calls
 * `describeCrmPortContract` with a subject that starts its sandbox and can seed deals
 * through the sandbox's own API (never through the adapter under test).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../../functions/core/errors.ts';
import type { CrmPort, DealSyncUpdate } from '../../functions/connectors/crm/port.ts';
import type { FaultRequest } from '../../local/sandbox/faults.ts';
import { rejection, retriedUntilSuccess } from '../support/failure.ts';

/** A won deal the subject seeded, and what the adapter must read from it. */
export interface SeededDeal {
  /** The id `getDeal` takes (the id the CRM's webhook carries). */
  readonly dealId: string;
  readonly name: string;
  readonly amount: number;
  readonly currency: string;
  /** The stage id as the adapter reports it for a won deal, e.g. `closedwon`. */
  readonly stage: string;
  readonly customer: { readonly kind: 'company' | 'person'; readonly name: string };
  /** The contact's email, when the seeded deal has a contact. */
  readonly contactEmail?: string;
  readonly lines: readonly { readonly sku: string; readonly quantity: number; readonly unitPrice: number }[];
}

/** What Harmony's write-back left on the deal, read through the sandbox's own API. */
export interface SyncFields {
  readonly erpOrderRef?: string | undefined;
  readonly erpStatus?: string | undefined;
  readonly syncError?: string | undefined;
}

/** What the suite needs from one adapter and its sandbox. */
export interface CrmContractSubject {
  /** The adapter, configured against the sandbox with a short timeout (≤ 2 s). */
  readonly crm: CrmPort;
  /** Creates a won deal with a company, a contact and two product lines, through the sandbox. */
  seedWonDeal(): Promise<SeededDeal>;
  /** Creates a won deal whose buyer is a person (no company). */
  seedPersonDeal(): Promise<SeededDeal>;
  /** Reads the deal's sync fields through the sandbox. */
  readSyncFields(dealId: string): Promise<SyncFields>;
  /** A well-formed deal id the CRM does not have. */
  readonly missingDealId: string;
  injectFault(fault: Partial<FaultRequest> & Pick<FaultRequest, 'kind'>): Promise<void>;
  clearFaults(): Promise<void>;
  /** The same adapter with credentials the CRM refuses. */
  withBadCredentials(): CrmPort;
  /** Makes the CRM expire every access token it issued (required when `options.accessTokens`). */
  expireTokens?(): Promise<void>;
  close(): Promise<void>;
}

/** Options of the suite. */
export interface CrmContractOptions {
  /** The CRM issues expiring access tokens: the subject has `expireTokens`. */
  readonly accessTokens: boolean;
}

/** Registers the CRM contract for one adapter. */
export function describeCrmPortContract(name: string, setup: () => Promise<CrmContractSubject>, options: CrmContractOptions): void {
  describe(`CrmPort contract: ${name}`, () => {
    let subject: CrmContractSubject;
    beforeAll(async () => {
      subject = await setup();
    }, 60_000);
    afterAll(async () => {
      await subject?.close();
    });

    it('has a short lower-case system name', () => {
      expect(subject.crm.system).toMatch(/^[a-z][a-z0-9-]{1,30}$/);
    });

    describe('getDeal', () => {
      it('reads a won deal with its company, contact and lines', async () => {
        const seeded = await subject.seedWonDeal();
        const deal = await subject.crm.getDeal(seeded.dealId);
        expect(deal).toMatchObject({ id: seeded.dealId, name: seeded.name, stage: seeded.stage, currency: seeded.currency });
        expect(deal.amount).toBeCloseTo(seeded.amount, 2);
        expect(deal.customer).toMatchObject(seeded.customer);
        expect(deal.customer.externalId).toMatch(new RegExp(`^${subject.crm.system}:`));
        if (seeded.contactEmail !== undefined) expect(deal.contact?.email).toBe(seeded.contactEmail);
        expect(deal.lines.map((line) => ({ sku: line.sku, quantity: line.quantity, unitPrice: line.unitPrice }))).toEqual(
          expect.arrayContaining(seeded.lines.map((line) => expect.objectContaining(line))),
        );
        expect(deal.lines).toHaveLength(seeded.lines.length);
      });

      it('reads a deal bought by a person as a person customer', async () => {
        const seeded = await subject.seedPersonDeal();
        const deal = await subject.crm.getDeal(seeded.dealId);
        expect(deal.customer.kind).toBe('person');
        expect(deal.customer.name).toBe(seeded.customer.name);
      });

      it('answers a PermanentError for a deal the CRM does not have', async () => {
        const error = await rejection(subject.crm.getDeal(subject.missingDealId));
        expect(error).toBeInstanceOf(PermanentError);
      });

      it('refuses a malformed deal id before calling the CRM', async () => {
        const error = await rejection(subject.crm.getDeal('../../etc/passwd'));
        expect(error).toBeInstanceOf(PermanentError);
      });
    });

    describe('updateDeal', () => {
      it('writes the ERP order number and status where the sales team sees them', async () => {
        const seeded = await subject.seedWonDeal();
        await subject.crm.updateDeal(seeded.dealId, { erpOrderRef: 'S04711', erpStatus: 'confirmed' });
        expect(await subject.readSyncFields(seeded.dealId)).toMatchObject({ erpOrderRef: 'S04711', erpStatus: 'confirmed' });
      });

      it('writing the same values twice leaves the same deal', async () => {
        const seeded = await subject.seedWonDeal();
        const update: DealSyncUpdate = { erpOrderRef: 'S04712', erpStatus: 'shipped' };
        await subject.crm.updateDeal(seeded.dealId, update);
        await subject.crm.updateDeal(seeded.dealId, update);
        expect(await subject.readSyncFields(seeded.dealId)).toMatchObject({ erpOrderRef: 'S04712', erpStatus: 'shipped' });
        expect((await subject.crm.getDeal(seeded.dealId)).id).toBe(seeded.dealId);
      });

      it('writes a sync failure with its reason for the sales team', async () => {
        const seeded = await subject.seedWonDeal();
        await subject.crm.updateDeal(seeded.dealId, { erpStatus: 'sync_failed', syncError: 'ERP has no product NO-SUCH-SKU' });
        const fields = await subject.readSyncFields(seeded.dealId);
        expect(fields.erpStatus).toBe('sync_failed');
        expect(fields.syncError).toContain('NO-SUCH-SKU');
      });

      it('answers a PermanentError for a deal the CRM does not have', async () => {
        const error = await rejection(subject.crm.updateDeal(subject.missingDealId, { erpStatus: 'confirmed' }));
        expect(error).toBeInstanceOf(PermanentError);
      });
    });

    describe('transport failures', () => {
      it('a 429 with Retry-After is a RetryableError carrying the wait', async () => {
        const seeded = await subject.seedWonDeal();
        await subject.injectFault({ kind: '429', count: 1, retryAfterSeconds: 7 });
        const error = await rejection(subject.crm.getDeal(seeded.dealId));
        await subject.clearFaults();
        expect(error).toBeInstanceOf(RetryableError);
        expect((error as RetryableError).retryAfterSeconds).toBe(7);
      });

      it('a 429 storm ends in success once it passes', async () => {
        const seeded = await subject.seedWonDeal();
        await subject.injectFault({ kind: '429', count: 3, retryAfterSeconds: 0 });
        const { result: deal, retries } = await retriedUntilSuccess(() => subject.crm.getDeal(seeded.dealId), 3);
        expect(deal.id).toBe(seeded.dealId);
        expect(retries).toBeGreaterThan(0);
      });

      it('a server error is a RetryableError', async () => {
        const seeded = await subject.seedWonDeal();
        await subject.injectFault({ kind: '500', count: 1 });
        const error = await rejection(subject.crm.getDeal(seeded.dealId));
        await subject.clearFaults();
        expect(error).toBeInstanceOf(RetryableError);
      });

      it('an answer that is not what the vendor documents is a clear PermanentError, not a crash', async () => {
        const seeded = await subject.seedWonDeal();
        await subject.injectFault({ kind: 'malformed', count: 1 });
        const error = await rejection(subject.crm.getDeal(seeded.dealId));
        await subject.clearFaults();
        expect(error).toBeInstanceOf(PermanentError);
        expect(error.message).toMatch(new RegExp(subject.crm.system, 'i'));
      });

      it('a call the CRM never answers fails as a RetryableError within the adapter timeout', async () => {
        const seeded = await subject.seedWonDeal();
        await subject.injectFault({ kind: 'timeout', count: 1 });
        const error = await rejection(subject.crm.getDeal(seeded.dealId));
        await subject.clearFaults();
        expect(error).toBeInstanceOf(RetryableError);
      }, 15_000);

      it('credentials the CRM refuses are a PermanentError that says so', async () => {
        const seeded = await subject.seedWonDeal();
        const error = await rejection(subject.withBadCredentials().getDeal(seeded.dealId));
        expect(error).toBeInstanceOf(PermanentError);
        expect(error.message).toMatch(/auth|credential|401|403|token|login|denied|password|signature|session/i);
      });

      if (options.accessTokens) {
        it('an expired access token is replaced without the caller noticing', async () => {
          expect(subject.expireTokens, 'options.accessTokens needs subject.expireTokens').toBeDefined();
          const seeded = await subject.seedWonDeal();
          await subject.expireTokens!();
          expect((await subject.crm.getDeal(seeded.dealId)).id).toBe(seeded.dealId);
        });
      }
    });
  });
}
