/**
 * NetSuite's record shapes (validated with zod) and the pure functions between them and
 * Harmony's Party, SalesOrderDraft and ErpOrder.
 *
 * Sales order status (the `orderStatus` letter; `status` carries the same state as text):
 *
 * | orderStatus | NetSuite                              | Harmony     | why |
 * | ----------- | ------------------------------------- | ----------- | --- |
 * | A           | Pending Approval                      | `draft`     | not yet approved, nothing reserved |
 * | B           | Pending Fulfillment                   | `confirmed` | approved ("Use Case For Approving Your Sales Order") |
 * | C           | Cancelled                             | `cancelled` | cancelled in the UI |
 * | D           | Partially Fulfilled                   | `shipped`   | goods have left |
 * | E           | Pending Billing/Partially Fulfilled   | `shipped`   | |
 * | F           | Pending Billing                       | `shipped`   | fulfilled, not yet invoiced |
 * | G           | Billed                                | `invoiced`  | invoiced; payment lives on the invoice, so `paid` is never reported |
 * | H           | Closed                                | `cancelled` | every line closed: how Harmony cancels through REST |
 */
import * as z from 'zod';
import { PermanentError } from '../../../core/errors.ts';
import { draftInput, PartyInput as CommonPartyInput } from '../inputs.ts';
import type { ErpOrder, ErpOrderStatus } from '../port.ts';
import { fromExternalId, toExternalId } from './external-id.ts';
import { SYSTEM } from './vendor-errors.ts';

/** One row of the status table above. */
interface OrderStatusRow {
  readonly label: string;
  readonly status: ErpOrderStatus;
}

/** NetSuite's sales order statuses by `orderStatus` letter. */
export const ORDER_STATUSES: Readonly<Record<string, OrderStatusRow>> = {
  A: { label: 'Pending Approval', status: 'draft' },
  B: { label: 'Pending Fulfillment', status: 'confirmed' },
  C: { label: 'Cancelled', status: 'cancelled' },
  D: { label: 'Partially Fulfilled', status: 'shipped' },
  E: { label: 'Pending Billing/Partially Fulfilled', status: 'shipped' },
  F: { label: 'Pending Billing', status: 'shipped' },
  G: { label: 'Billed', status: 'invoiced' },
  H: { label: 'Closed', status: 'cancelled' },
};

/** The `orderStatus` letter that approves an order. */
export const APPROVED_ORDER_STATUS = 'B';

/** A reference to another record, as NetSuite writes it: `{links, id, refName}`. */
const RecordRef = z.looseObject({ id: z.string().min(1), refName: z.string().optional() });

/** The fields of a `salesOrder` record Harmony reads (`?expandSubResources=true` adds the lines). */
export const SalesOrderRecord = z.looseObject({
  id: z.string().regex(/^\d+$/),
  tranId: z.string(),
  externalId: z.string().optional(),
  otherRefNum: z.string().optional(),
  orderStatus: z.looseObject({ id: z.string(), refName: z.string().optional() }).optional(),
  status: z.looseObject({ id: z.string().optional(), refName: z.string().optional() }).optional(),
  total: z.number(),
  currency: RecordRef,
  item: z
    .looseObject({
      items: z.array(z.looseObject({ line: z.number().int().nonnegative(), isClosed: z.boolean().optional() })).optional(),
    })
    .optional(),
});
export type SalesOrderRecord = z.infer<typeof SalesOrderRecord>;

/** The fields of a `customer` record Harmony reads. */
export const CustomerRecord = z.looseObject({
  id: z.string().regex(/^\d+$/),
  externalId: z.string().optional(),
  isInactive: z.boolean().optional(),
});

/** SuiteQL answers every value as text; ids as `"107"`. */
const SuiteqlId = z.union([z.string().regex(/^\d+$/), z.number().int().positive()]).transform(String);

/** `SELECT id, externalid FROM customer …` rows (NetSuite leaves out columns that are empty). */
export const CustomerMatchRow = z.object({ id: SuiteqlId, externalid: z.string().optional() });
/** `SELECT id, itemid FROM item …` rows. */
export const ItemRow = z.object({ id: SuiteqlId, itemid: z.string() });
/** `SELECT id, symbol, isinactive FROM currency …` rows; `symbol` is the ISO 4217 code, `isinactive` `T` or `F`. */
export const CurrencyRow = z.object({ id: SuiteqlId, symbol: z.string(), isinactive: z.enum(['T', 'F']).optional() });

/** The Harmony status of an order: by its `orderStatus` letter, else by the `status` text. */
export function toErpOrderStatus(record: Pick<SalesOrderRecord, 'id' | 'orderStatus' | 'status'>): ErpOrderStatus {
  const letter = record.orderStatus?.id;
  const byLetter = letter === undefined ? undefined : ORDER_STATUSES[letter];
  if (byLetter !== undefined) return byLetter.status;
  const text = (record.status?.refName ?? record.status?.id ?? '').trim().toLowerCase();
  const byText = Object.values(ORDER_STATUSES).find((row) => row.label.toLowerCase() === text);
  if (byText !== undefined) return byText.status;
  throw new PermanentError(
    `${SYSTEM}: sales order ${record.id} has a status Harmony does not know (orderStatus ${JSON.stringify(letter)}, status ${JSON.stringify(record.status?.refName ?? record.status?.id)})`,
    { system: SYSTEM, code: 'unknown-status' },
  );
}

/** The external reference an order carries: its external id decoded, else its PO number (`otherRefNum`). */
export function externalRefOf(record: Pick<SalesOrderRecord, 'externalId' | 'otherRefNum'>): string {
  const decoded = record.externalId === undefined ? undefined : fromExternalId(record.externalId);
  return decoded ?? record.otherRefNum ?? record.externalId ?? '';
}

/** Maps a sales order to Harmony's ErpOrder; `currency` is the ISO code of `record.currency`. */
export function toErpOrder(record: SalesOrderRecord, currency: string): ErpOrder {
  return {
    id: record.id,
    reference: record.tranId,
    externalRef: externalRefOf(record),
    status: toErpOrderStatus(record),
    amountTotal: record.total,
    currency,
  };
}

/** A party as Harmony validated it, within the lengths of NetSuite's customer fields, with phone and address. */
export const PartyInput = CommonPartyInput.extend({
  name: z.string().trim().min(1).max(83),
  email: z.string().trim().max(254).optional(),
  phone: z.string().trim().max(32).optional(),
  vatNumber: z.string().trim().max(40).optional(),
  address: z
    .object({
      street: z.string().trim().optional(),
      city: z.string().trim().optional(),
      postalCode: z.string().trim().optional(),
      countryCode: z.string().trim().regex(/^[A-Za-z]{2}$/, 'expected an ISO 3166-1 alpha-2 code such as "DE"').optional(),
    })
    .optional(),
});

/** A VAT number without the spaces, dots and dashes people type into it: `DE 123.456.789` → `DE123456789`. */
export function compactVat(vat: string): string {
  return vat.replace(/[\s.\-/]/g, '').toUpperCase();
}

/**
 * The body of a new `customer`: a company (`isPerson: false`, `companyName`) or an
 * individual (`isPerson: true`, the name split into first and last at the last space), the
 * CRM id as `externalId`, and only the fields the party has, so none is blanked.
 */
export function toCustomerBody(party: z.infer<typeof PartyInput>, subsidiaryId: string | undefined): Record<string, unknown> {
  const present = (value: string | undefined): value is string => value !== undefined && value !== '';
  const address = party.address;
  const hasAddress = address !== undefined && [address.street, address.city, address.postalCode, address.countryCode].some(present);
  const split = party.name.lastIndexOf(' ');
  const names =
    party.kind === 'company'
      ? { isPerson: false, companyName: party.name }
      : split < 0
        ? { isPerson: true, lastName: party.name }
        : { isPerson: true, firstName: party.name.slice(0, split).trim(), lastName: party.name.slice(split + 1) };
  return {
    ...names,
    externalId: toExternalId(party.externalId),
    ...(present(party.email) ? { email: party.email } : {}),
    ...(present(party.phone) ? { phone: party.phone } : {}),
    ...(present(party.vatNumber) ? { vatRegNumber: party.vatNumber } : {}),
    ...(subsidiaryId === undefined ? {} : { subsidiary: { id: subsidiaryId } }),
    ...(hasAddress
      ? {
          addressBook: {
            items: [
              {
                defaultBilling: true,
                defaultShipping: true,
                addressBookAddress: {
                  ...(present(address.street) ? { addr1: address.street } : {}),
                  ...(present(address.city) ? { city: address.city } : {}),
                  ...(present(address.postalCode) ? { zip: address.postalCode } : {}),
                  ...(present(address.countryCode) ? { country: { id: address.countryCode.toUpperCase() } } : {}),
                },
              },
            ],
          },
        }
      : {}),
  };
}

/** A sales order draft as Harmony validated it. */
export const DraftInput = draftInput({ customerId: z.string().regex(/^[1-9]\d*$/, 'expected a NetSuite customer internal id such as "107"') });
export type DraftInput = z.infer<typeof DraftInput>;

/**
 * The body of a new `salesOrder`: customer, currency, the external reference as
 * `externalId` (so a retry finds it) and as the PO number (`otherRefNum`), and one item line
 * per draft line. A line discount is folded into the rate (NetSuite models discounts as
 * separate discount items); NetSuite computes amounts, tax and the total itself.
 */
export function toSalesOrderBody(
  draft: DraftInput,
  itemIds: ReadonlyMap<string, string>,
  currencyId: string,
  subsidiaryId: string | undefined,
): Record<string, unknown> {
  return {
    entity: { id: draft.customerId },
    currency: { id: currencyId },
    externalId: toExternalId(draft.externalRef),
    otherRefNum: draft.externalRef,
    ...(draft.note === undefined || draft.note === '' ? {} : { memo: draft.note }),
    ...(subsidiaryId === undefined ? {} : { subsidiary: { id: subsidiaryId } }),
    item: {
      items: draft.lines.map((line) => ({
        item: { id: itemIds.get(line.sku)! },
        quantity: line.quantity,
        rate: Math.round(line.unitPrice * (1 - (line.discountPercent ?? 0) / 100) * 1e6) / 1e6,
        description: line.name,
      })),
    },
  };
}
