/**
 * The one contract every ErpPort adapter passes, against its sandbox: the same cases for
 * Odoo, NetSuite, SAP, Business Central and the file-drop and SOAP ERPs. An adapter's own
 * test file calls `describeErpPortContract` with a subject that starts its sandbox.
 *
 * ERPs that answer later (the file-drop ERP confirms when it has processed the order
 * file) give a `settle` hook: the suite calls it and tries again while the port says
 * RetryableError, exactly as the saga's retry would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../../functions/core/errors.ts';
import type { Party } from '../../functions/connectors/crm/port.ts';
import type { ErpOrder, ErpPort, SalesOrderDraft } from '../../functions/connectors/erp/port.ts';
import type { FaultRequest } from '../../local/sandbox/faults.ts';
import { rejection, retriedUntilSuccess } from '../support/failure.ts';

/** What the suite needs from one adapter and its sandbox. */
export interface ErpContractSubject {
  /** The adapter, configured against the sandbox with a short timeout (≤ 2 s) so a held call fails fast. */
  readonly erp: ErpPort;
  /** Two SKUs the ERP sells. */
  readonly knownSkus: readonly [string, string];
  /** A well-formed order id the ERP does not have (ERPs differ: numbers, GUIDs, document numbers). */
  readonly missingOrderId: string;
  /** A currency the ERP accepts for orders. */
  readonly currency: string;
  /** Lets the ERP do work it does asynchronously (process dropped files…). @default nothing to do */
  settle?(): Promise<void>;
  /** Fails the sandbox's next matching calls (POST /__sandbox/faults). */
  injectFault(fault: Partial<FaultRequest> & Pick<FaultRequest, 'kind'>): Promise<void>;
  /** Removes pending faults. */
  clearFaults(): Promise<void>;
  /** The same adapter with credentials the ERP refuses (required when `options.credentials`). */
  withBadCredentials?(): ErpPort;
  /** Makes the ERP expire every access token it has issued; the adapter must fetch a new one and carry on (required when `options.accessTokens`). */
  expireTokens?(): Promise<void>;
  close(): Promise<void>;
}

/** Options of the suite. */
export interface ErpContractOptions {
  /**
   * Operations the fault cases target: any call the adapter makes for `getSalesOrder`.
   * @default undefined (the next call, whatever it is)
   */
  readonly readOperation?: string;
  /** Whether `timeout` faults apply (an ERP reached through a file transfer may not hold requests). @default true */
  readonly timeoutFaults?: boolean;
  /**
   * The ERP is reached over HTTP, so the sandbox's 429/500/malformed/timeout faults apply to
   * `getSalesOrder`. An ERP reached by file transfer tests its own transport faults instead.
   * @default true
   */
  readonly httpFaults?: boolean;
  /**
   * Cancelling deletes the order (Business Central has no cancelled state): afterwards
   * `getSalesOrder` is a PermanentError `not-found` and cancelling again is still a no-op.
   * @default false
   */
  readonly cancelledOrdersDisappear?: boolean;
  /** The ERP takes credentials: the subject has `withBadCredentials`. */
  readonly credentials: boolean;
  /** The ERP issues expiring access tokens: the subject has `expireTokens`. */
  readonly accessTokens: boolean;
}

let sequence = 0;
/** Unique within the run, so cases sharing a sandbox never see each other's records. */
export function uniqueRef(prefix: string): string {
  sequence += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${sequence}`;
}

/** Registers the ERP contract for one adapter. */
export function describeErpPortContract(name: string, setup: () => Promise<ErpContractSubject>, options: ErpContractOptions): void {
  describe(`ErpPort contract: ${name}`, () => {
    let subject: ErpContractSubject;
    beforeAll(async () => {
      subject = await setup();
    }, 60_000);
    afterAll(async () => {
      await subject?.close();
    });

    /** Calls `operation`, letting the ERP settle between RetryableErrors (as the saga retries), up to 20 times. */
    async function settled<Result>(operation: () => Promise<Result>): Promise<Result> {
      for (let attempt = 1; ; attempt += 1) {
        try {
          return await operation();
        } catch (error) {
          if (!(error instanceof RetryableError) || attempt >= 20) throw error;
          await subject.settle?.();
        }
      }
    }

    const party = (overrides: Partial<Party> = {}): Party => ({
      externalId: uniqueRef('crm:company'),
      kind: 'company',
      name: 'Nordwind Handels GmbH',
      email: `${uniqueRef('buyer')}@nordwind.example`,
      vatNumber: `DE${String(100_000_000 + (sequence % 899_999_999))}`,
      address: { street: 'Hafenstraße 7', city: 'Hamburg', postalCode: '20457', countryCode: 'DE' },
      ...overrides,
    });

    const draft = (customerId: string, overrides: Partial<SalesOrderDraft> = {}): SalesOrderDraft => ({
      externalRef: uniqueRef('crm:deal'),
      customerId,
      currency: subject.currency,
      lines: [
        { sku: subject.knownSkus[0], name: 'First line', quantity: 4, unitPrice: 22.5 },
        { sku: subject.knownSkus[1], name: 'Second line', quantity: 2, unitPrice: 90, discountPercent: 10 },
      ],
      ...overrides,
    });

    async function newOrder(): Promise<{ order: ErpOrder; externalRef: string }> {
      const customer = await settled(() => subject.erp.upsertCustomer(party()));
      const orderDraft = draft(customer.customerId);
      const order = await settled(() => subject.erp.createSalesOrder(orderDraft));
      return { order, externalRef: orderDraft.externalRef };
    }

    it('has a short lower-case system name', () => {
      expect(subject.erp.system).toMatch(/^[a-z][a-z0-9-]{1,30}$/);
    });

    describe('upsertCustomer', () => {
      it('creates a customer the ERP did not have, and finds it again by the CRM id', async () => {
        const buyer = party();
        const first = await settled(() => subject.erp.upsertCustomer(buyer));
        expect(first.created).toBe(true);
        expect(first.customerId).not.toBe('');
        const again = await settled(() => subject.erp.upsertCustomer(buyer));
        expect(again).toMatchObject({ customerId: first.customerId, created: false, matchedBy: 'externalId' });
      });

      it('matches an existing customer by VAT number before creating a second one', async () => {
        const buyer = party();
        const first = await settled(() => subject.erp.upsertCustomer(buyer));
        const sameCompanyOtherCrmRecord = { ...buyer, externalId: uniqueRef('crm:company'), email: `${uniqueRef('other')}@nordwind.example` };
        const second = await settled(() => subject.erp.upsertCustomer(sameCompanyOtherCrmRecord));
        expect(second).toMatchObject({ customerId: first.customerId, created: false, matchedBy: 'vatNumber' });
      });

      it('matches by email when there is no VAT number', async () => {
        const { vatNumber: _ignored, ...withoutVat } = party();
        const first = await settled(() => subject.erp.upsertCustomer(withoutVat));
        const second = await settled(() => subject.erp.upsertCustomer({ ...withoutVat, externalId: uniqueRef('crm:contact') }));
        expect(second).toMatchObject({ customerId: first.customerId, created: false, matchedBy: 'email' });
      });

      it('creates a person as well as a company', async () => {
        const person = await settled(() =>
          subject.erp.upsertCustomer({ externalId: uniqueRef('crm:contact'), kind: 'person', name: 'Ada Lovelace', email: `${uniqueRef('ada')}@example.org` }),
        );
        expect(person.created).toBe(true);
      });
    });

    describe('sales orders', () => {
      it('creates an order that carries the external reference, the currency and a total the ERP computed', async () => {
        const { order, externalRef } = await newOrder();
        expect(order.id).not.toBe('');
        expect(order.externalRef).toBe(externalRef);
        expect(order.currency).toBe(subject.currency);
        expect(['draft', 'confirmed']).toContain(order.status);
        expect(order.amountTotal).toBeGreaterThanOrEqual(0);
      });

      it('finds the order by its external reference, and nothing for a reference it never saw', async () => {
        const { order, externalRef } = await newOrder();
        const found = await settled(() => subject.erp.findSalesOrderByExternalRef(externalRef));
        expect(found?.id).toBe(order.id);
        expect(await settled(() => subject.erp.findSalesOrderByExternalRef(uniqueRef('never-sent')))).toBeUndefined();
      });

      it('creating the same external reference twice gives the same order, not a second one', async () => {
        const customer = await settled(() => subject.erp.upsertCustomer(party()));
        const orderDraft = draft(customer.customerId);
        const first = await settled(() => subject.erp.createSalesOrder(orderDraft));
        const second = await settled(() => subject.erp.createSalesOrder(orderDraft));
        expect(second.id).toBe(first.id);
      });

      it('confirms an order, and confirming it again changes nothing', async () => {
        const { order } = await newOrder();
        const confirmed = await settled(() => subject.erp.confirmSalesOrder(order.id));
        expect(confirmed.status).toBe('confirmed');
        expect(confirmed.reference).not.toBe('');
        const again = await settled(() => subject.erp.confirmSalesOrder(order.id));
        expect(again).toMatchObject({ id: confirmed.id, status: 'confirmed', reference: confirmed.reference });
        expect((await settled(() => subject.erp.getSalesOrder(order.id))).status).toBe('confirmed');
      });

      it('cancels an order (confirmed or not) for good; cancelling again is a no-op and it is no longer found by reference', async () => {
        const { order, externalRef } = await newOrder();
        await settled(() => subject.erp.confirmSalesOrder(order.id));
        const cancelled = await settled(() => subject.erp.cancelSalesOrder(order.id));
        expect(cancelled.status).toBe('cancelled');
        expect((await settled(() => subject.erp.cancelSalesOrder(order.id))).status).toBe('cancelled');
        if (options.cancelledOrdersDisappear === true) {
          const gone = await rejection(settled(() => subject.erp.getSalesOrder(order.id)));
          expect(gone).toBeInstanceOf(PermanentError);
          expect((gone as PermanentError).code).toBe('not-found');
        } else {
          expect((await settled(() => subject.erp.getSalesOrder(order.id))).status).toBe('cancelled');
        }
        expect(await settled(() => subject.erp.findSalesOrderByExternalRef(externalRef))).toBeUndefined();
      });

      it('cancels a draft that was never confirmed', async () => {
        const { order } = await newOrder();
        expect((await settled(() => subject.erp.cancelSalesOrder(order.id))).status).toBe('cancelled');
      });

      it('rejects an order for a SKU the ERP does not sell with a PermanentError naming the SKU', async () => {
        const customer = await settled(() => subject.erp.upsertCustomer(party()));
        const error = await rejection(
          settled(() =>
            subject.erp.createSalesOrder(
              draft(customer.customerId, { lines: [{ sku: 'NO-SUCH-SKU-404', name: 'Ghost', quantity: 1, unitPrice: 1 }] }),
            ),
          ),
        );
        expect(error).toBeInstanceOf(PermanentError);
        expect(error.message).toContain('NO-SUCH-SKU-404');
      });

      it('answers a PermanentError for an order id it does not have', async () => {
        const error = await rejection(subject.erp.getSalesOrder(subject.missingOrderId));
        expect(error).toBeInstanceOf(PermanentError);
      });
    });

    describe('transport failures', () => {
      if (options.httpFaults !== false) {
        it('a 429 with Retry-After is a RetryableError carrying the wait', async () => {
          const { order } = await newOrder();
          await subject.injectFault({ kind: '429', count: 1, retryAfterSeconds: 7, ...(options.readOperation === undefined ? {} : { operation: options.readOperation }) });
          const error = await rejection(subject.erp.getSalesOrder(order.id));
          await subject.clearFaults();
          expect(error).toBeInstanceOf(RetryableError);
          expect((error as RetryableError).retryAfterSeconds).toBe(7);
        });

        it('a 429 storm ends in success once it passes, without a second order', async () => {
          const { order } = await newOrder();
          await subject.injectFault({ kind: '429', count: 3, retryAfterSeconds: 0, ...(options.readOperation === undefined ? {} : { operation: options.readOperation }) });
          const { result: read, retries } = await retriedUntilSuccess(() => subject.erp.getSalesOrder(order.id), 3);
          expect(read.id).toBe(order.id);
          expect(retries).toBeGreaterThan(0);
        });

        it('a server error is a RetryableError', async () => {
          const { order } = await newOrder();
          await subject.injectFault({ kind: '500', count: 1, ...(options.readOperation === undefined ? {} : { operation: options.readOperation }) });
          const error = await rejection(subject.erp.getSalesOrder(order.id));
          await subject.clearFaults();
          expect(error).toBeInstanceOf(RetryableError);
        });

        it('an answer that is not what the vendor documents is a clear PermanentError, not a crash', async () => {
          const { order } = await newOrder();
          await subject.injectFault({ kind: 'malformed', count: 1, ...(options.readOperation === undefined ? {} : { operation: options.readOperation }) });
          const error = await rejection(subject.erp.getSalesOrder(order.id));
          await subject.clearFaults();
          expect(error).toBeInstanceOf(PermanentError);
          expect(error.message).toMatch(new RegExp(subject.erp.system, 'i'));
        });

        if (options.timeoutFaults !== false) {
          it('a call the ERP never answers fails as a RetryableError within the adapter timeout', async () => {
            const { order } = await newOrder();
            await subject.injectFault({ kind: 'timeout', count: 1, ...(options.readOperation === undefined ? {} : { operation: options.readOperation }) });
            const error = await rejection(subject.erp.getSalesOrder(order.id));
            await subject.clearFaults();
            expect(error).toBeInstanceOf(RetryableError);
          }, 15_000);
        }
      }

      if (options.credentials) {
        it('credentials the ERP refuses are a PermanentError that says so', async () => {
          expect(subject.withBadCredentials, 'options.credentials needs subject.withBadCredentials').toBeDefined();
          const error = await rejection(subject.withBadCredentials!().getSalesOrder(subject.missingOrderId));
          expect(error).toBeInstanceOf(PermanentError);
          expect(error.message).toMatch(/auth|credential|401|403|token|login|denied|password|signature/i);
        });
      }

      if (options.accessTokens) {
        it('an expired access token is replaced without the caller noticing', async () => {
          expect(subject.expireTokens, 'options.accessTokens needs subject.expireTokens').toBeDefined();
          const { order } = await newOrder();
          await subject.expireTokens!();
          expect((await subject.erp.getSalesOrder(order.id)).id).toBe(order.id);
        });
      }
    });
  });
}
