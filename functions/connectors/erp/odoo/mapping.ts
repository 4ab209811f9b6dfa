/**
 * Odoo's record shapes (validated with zod) and the pure functions that turn
 * Harmony's Party and SalesOrderDraft into Odoo values and Odoo's `sale.order`
 * records into ErpOrder.
 */
import * as z from 'zod';
import { PermanentError } from '../../../core/errors.ts';
import type { Party } from '../../crm/port.ts';
import type { ErpOrder, ErpOrderStatus, SalesOrderLineDraft } from '../port.ts';

/** Odoo sends `false` for an empty char field. */
const OdooChar = z.union([z.string(), z.literal(false)]);

/** A many2one as `read` returns it: `[id, display_name]`, or `false` when unset. */
const OdooMany2one = z.union([z.tuple([z.number().int(), z.string()]), z.literal(false)]);

/** `res.partner` values Harmony writes when it creates a customer. */
export interface OdooPartnerValues {
  readonly name: string;
  readonly is_company: boolean;
  /** The CRM's qualified id, so the next upsert finds this partner first. */
  readonly ref: string;
  readonly email?: string;
  readonly phone?: string;
  readonly vat?: string;
  readonly street?: string;
  readonly city?: string;
  readonly zip?: string;
  readonly country_id?: number;
  /** Marks the partner as a customer, as Odoo does when it is used on a sales order. */
  readonly customer_rank: number;
}

/**
 * Maps a CRM party to the values of a new `res.partner`; `countryId` is the
 * `res.country` id of the party's country code when Odoo knows it. Absent
 * fields are left out rather than sent as `false`, so they never blank a value.
 */
export function toPartnerValues(party: Party, countryId: number | undefined): OdooPartnerValues {
  const optional = (value: string | undefined): string | undefined => {
    const trimmed = value?.trim();
    return trimmed === undefined || trimmed === '' ? undefined : trimmed;
  };
  const email = optional(party.email);
  const phone = optional(party.phone);
  const vat = optional(party.vatNumber);
  const street = optional(party.address?.street);
  const city = optional(party.address?.city);
  const zip = optional(party.address?.postalCode);
  return {
    name: party.name.trim(),
    is_company: party.kind === 'company',
    ref: party.externalId,
    customer_rank: 1,
    ...(email === undefined ? {} : { email }),
    ...(phone === undefined ? {} : { phone }),
    ...(vat === undefined ? {} : { vat }),
    ...(street === undefined ? {} : { street }),
    ...(city === undefined ? {} : { city }),
    ...(zip === undefined ? {} : { zip }),
    ...(countryId === undefined ? {} : { country_id: countryId }),
  };
}

/** A VAT number without the spaces, dots and dashes people type into it, upper-cased: `DE 123.456.789` → `DE123456789`. */
export function compactVat(vat: string): string {
  return vat.replace(/[\s.\-/]/g, '').toUpperCase();
}

/**
 * Escapes `%`, `_` and `\` so a value can be used as an exact `=like`/`=ilike`
 * pattern (Odoo hands the pattern to PostgreSQL, whose LIKE escape is `\`).
 */
export function escapeLikePattern(value: string): string {
  return value.replace(/[\\%_]/g, (character) => `\\${character}`);
}

/** Fields Harmony reads from `res.partner` when matching a customer. */
export const PARTNER_MATCH_FIELDS = ['id', 'ref'] as const;

/** `res.partner` rows as `search_read` returns them for PARTNER_MATCH_FIELDS. */
export const OdooPartnerMatches = z.array(z.object({ id: z.number().int().positive(), ref: OdooChar }));

/** `sale.order` states across Odoo versions (`done` is Odoo ≤ 16's locked order). */
const OdooOrderState = z.enum(['draft', 'sent', 'sale', 'done', 'cancel']);

/** Fields Harmony reads from `sale.order`; all exist from Odoo 14 to 18 with the `sale` module alone. */
export const SALE_ORDER_FIELDS = ['id', 'name', 'state', 'client_order_ref', 'amount_total', 'currency_id', 'invoice_status'] as const;

/** A `sale.order` row as `read`/`search_read` returns it for SALE_ORDER_FIELDS. */
export const OdooSaleOrder = z.object({
  id: z.number().int().positive(),
  name: z.string().min(1),
  state: OdooOrderState,
  client_order_ref: OdooChar,
  amount_total: z.number(),
  currency_id: OdooMany2one,
  invoice_status: z.union([z.enum(['upselling', 'invoiced', 'to invoice', 'no']), z.literal(false)]).optional(),
});
/** A validated `sale.order` row. */
export type OdooSaleOrder = z.infer<typeof OdooSaleOrder>;

/** A list of `sale.order` rows. */
export const OdooSaleOrders = z.array(OdooSaleOrder);

/**
 * Harmony's status for an Odoo order, from `state` and `invoice_status` only:
 * draft/sent → draft; sale/done → invoiced when Odoo says "Fully Invoiced",
 * else confirmed; cancel → cancelled. Shipped and paid need delivery and
 * payment data (sale_stock, account) that this mapping does not read.
 */
export function toErpOrderStatus(state: OdooSaleOrder['state'], invoiceStatus: OdooSaleOrder['invoice_status']): ErpOrderStatus {
  switch (state) {
    case 'draft':
    case 'sent':
      return 'draft';
    case 'sale':
    case 'done':
      return invoiceStatus === 'invoiced' ? 'invoiced' : 'confirmed';
    case 'cancel':
      return 'cancelled';
  }
}

/** Maps a `sale.order` row to Harmony's ErpOrder; the currency is the code Odoo shows for `currency_id` (e.g. `EUR`). */
export function toErpOrder(record: OdooSaleOrder): ErpOrder {
  if (record.currency_id === false) {
    throw new PermanentError(`Odoo order ${record.name} has no currency`, { system: 'odoo', code: 'malformed-response' });
  }
  return {
    id: String(record.id),
    reference: record.name,
    externalRef: record.client_order_ref === false ? '' : record.client_order_ref,
    status: toErpOrderStatus(record.state, record.invoice_status),
    amountTotal: record.amount_total,
    currency: record.currency_id[1],
  };
}

/** `sale.order.line` values of one line. */
export interface OdooOrderLineValues {
  readonly product_id: number;
  readonly name: string;
  readonly product_uom_qty: number;
  readonly price_unit: number;
  readonly discount: number;
}

/** Odoo's x2many "create" command: `[0, 0, values]` (`Command.create`). */
export type OdooCreateCommand<Values> = readonly [0, 0, Values];

/**
 * The `order_line` commands for a draft's lines, with product ids looked up by
 * SKU; PermanentError when a SKU is missing from `productIdsBySku`.
 */
export function toOrderLineCommands(
  lines: readonly SalesOrderLineDraft[],
  productIdsBySku: ReadonlyMap<string, number>,
): OdooCreateCommand<OdooOrderLineValues>[] {
  return lines.map((line) => {
    const productId = productIdsBySku.get(line.sku);
    if (productId === undefined) {
      throw new PermanentError(`Odoo has no product with SKU ${line.sku}`, { system: 'odoo', code: 'unknown-sku' });
    }
    return [0, 0, {
      product_id: productId,
      // Odoo requires a line description; fall back to the SKU when the CRM has none.
      name: line.name.trim() === '' ? line.sku : line.name,
      product_uom_qty: line.quantity,
      price_unit: line.unitPrice,
      discount: line.discountPercent ?? 0,
    }] as const;
  });
}
