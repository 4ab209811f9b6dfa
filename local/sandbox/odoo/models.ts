/**
 * The Odoo models the sandbox serves (res.partner, res.country, res.currency,
 * product.pricelist, product.product, sale.order, sale.order.line and the
 * sale.order.cancel wizard), with the fields integrations and common clients
 * use and the sale.order workflow of Odoo 17's `addons/sale/models/sale_order.py`
 * and `addons/sale/wizard/sale_order_cancel.py`.
 */
import {
  type Environment,
  type FieldDefinition,
  type ModelDefinition,
  type StoredRecord,
  type StoredValue,
} from './database.ts';
import { userError, valueError } from './odoo-exceptions.ts';

/**
 * Every order line is taxed at this one rate (15 %, the default sales tax of
 * Odoo's generic chart of accounts), computed per line and rounded to cents:
 * `price_tax = round(price_subtotal * 0.15, 2)`.
 */
export const SANDBOX_TAX_RATE = 0.15;

/** The sandbox company's currency, used by orders without a pricelist. */
export const COMPANY_CURRENCY = 'EUR';

/** Behaviour switches of the sandbox's models. */
export interface SandboxModelOptions {
  /**
   * When true, `sale.order.action_cancel` returns the `sale.order.cancel` wizard
   * for any non-draft order even if the context holds `disable_cancel_warning`,
   * as databases do whose customisations override `_show_cancel_wizard`. The
   * wizard's own `action_cancel` still cancels.
   */
  readonly cancelWizardIgnoresContext: boolean;
}

/** Half-up rounding to cents, as Odoo's `float_round` with a 0.01 currency rounding. */
export function roundCents(amount: number): number {
  return (Math.sign(amount) * Math.round(Math.abs(amount) * 100 + 1e-9)) / 100;
}

const char = (string: string, extra: Partial<FieldDefinition> = {}): FieldDefinition => ({ type: 'char', string, ...extra });
const bool = (string: string, extra: Partial<FieldDefinition> = {}): FieldDefinition => ({ type: 'boolean', string, ...extra });
const float = (string: string, extra: Partial<FieldDefinition> = {}): FieldDefinition => ({ type: 'float', string, ...extra });
const many2one = (string: string, relation: string, extra: Partial<FieldDefinition> = {}): FieldDefinition => ({
  type: 'many2one',
  string,
  relation,
  ...extra,
});

const ORDER_STATES = [
  ['draft', 'Quotation'],
  ['sent', 'Quotation Sent'],
  ['sale', 'Sales Order'],
  ['cancel', 'Cancelled'],
] as const;

const INVOICE_STATUSES = [
  ['upselling', 'Upselling Opportunity'],
  ['invoiced', 'Fully Invoiced'],
  ['to invoice', 'To Invoice'],
  ['no', 'Nothing to Invoice'],
] as const;

function orderLines(env: Environment, order: StoredRecord): StoredRecord[] {
  return env.rowsWhere('sale.order.line', 'order_id', order.id);
}

function lineSubtotal(line: StoredRecord): number {
  if (line.display_type !== null && line.display_type !== undefined) return 0;
  const price = Number(line.price_unit ?? 0);
  const quantity = Number(line.product_uom_qty ?? 0);
  const discount = Number(line.discount ?? 0);
  return roundCents(price * quantity * (1 - discount / 100));
}

function lineTax(line: StoredRecord): number {
  return roundCents(lineSubtotal(line) * SANDBOX_TAX_RATE);
}

function companyCurrencyId(env: Environment): number | null {
  return env.rowsWhere('res.currency', 'name', COMPANY_CURRENCY)[0]?.id ?? null;
}

function orderCurrencyId(env: Environment, order: StoredRecord): number | null {
  const pricelist = typeof order.pricelist_id === 'number' ? env.find('product.pricelist', order.pricelist_id) : undefined;
  return typeof pricelist?.currency_id === 'number' ? pricelist.currency_id : companyCurrencyId(env);
}

function typeName(state: StoredValue | undefined): string {
  return state === 'draft' || state === 'sent' || state === 'cancel' ? 'Quotation' : 'Sales Order';
}

function ensureOne(model: string, ids: readonly number[]): number {
  if (ids.length !== 1) throw valueError(`Expected singleton: ${model}(${ids.join(', ')}${ids.length === 1 ? ',' : ''})`);
  return ids[0]!;
}

/**
 * `sale.order.action_cancel`: a locked order raises; a non-draft order without
 * `disable_cancel_warning` in the context gets the `sale.order.cancel` wizard
 * action back and stays as it is; otherwise the orders are cancelled.
 */
function cancelOrders(env: Environment, ids: readonly number[], options: SandboxModelOptions, fromWizard: boolean): unknown {
  const orders = env.browse('sale.order', ids);
  if (orders.some((order) => order.locked === true)) {
    throw userError('You cannot cancel a locked order. Please unlock it first.');
  }
  const contextSilencesWarning = env.context.disable_cancel_warning === true && !options.cancelWizardIgnoresContext;
  const showWizard = !fromWizard && !contextSilencesWarning && orders.some((order) => order.state !== 'draft');
  if (showWizard) {
    const orderId = ensureOne('sale.order', ids);
    const order = orders[0]!;
    return {
      name: `Cancel ${typeName(order.state)}`,
      view_mode: 'form',
      res_model: 'sale.order.cancel',
      view_id: 1164,
      type: 'ir.actions.act_window',
      context: {
        default_template_id: 17,
        default_order_id: orderId,
        mark_so_as_canceled: true,
        default_email_layout_xmlid: 'mail.mail_notification_layout_with_responsible_signature',
        model_description: typeName(order.state),
      },
      target: 'new',
    };
  }
  env.write('sale.order', ids, { state: 'cancel' });
  return true;
}

/** The sandbox's models; `options` switches behaviours tests need to provoke. */
export function createModels(options: SandboxModelOptions): ModelDefinition[] {
  const country: ModelDefinition = {
    name: 'res.country',
    description: 'Country',
    order: 'name',
    fields: {
      name: char('Country Name', { required: true }),
      code: char('Country Code', { required: true, help: 'The ISO country code in two chars.' }),
      phone_code: { type: 'integer', string: 'Country Calling Code' },
      currency_id: many2one('Currency', 'res.currency'),
    },
  };

  const currency: ModelDefinition = {
    name: 'res.currency',
    description: 'Currency',
    order: 'active desc, name',
    fields: {
      name: char('Currency', { required: true, help: 'Currency Code (ISO 4217)' }),
      full_name: char('Name'),
      symbol: char('Symbol', { required: true }),
      rounding: float('Rounding Factor', { default: () => 0.01 }),
      decimal_places: { type: 'integer', string: 'Decimal Places', compute: () => 2 },
      active: bool('Active', { default: () => true }),
    },
  };

  const pricelist: ModelDefinition = {
    name: 'product.pricelist',
    description: 'Pricelist',
    order: 'sequence, id',
    fields: {
      name: char('Pricelist Name', { required: true }),
      currency_id: many2one('Currency', 'res.currency', { required: true }),
      sequence: { type: 'integer', string: 'Sequence', default: () => 16 },
      active: bool('Active', { default: () => true }),
    },
  };

  const partner: ModelDefinition = {
    name: 'res.partner',
    description: 'Contact',
    order: 'complete_name asc, id desc',
    displayName: (record, env) => completeName(record, env),
    fields: {
      name: char('Name', { required: true }),
      complete_name: char('Complete Name', { compute: (record, env) => completeName(record, env) }),
      is_company: bool('Is a Company', { default: () => false }),
      company_type: {
        type: 'selection',
        string: 'Company Type',
        selection: [['person', 'Individual'], ['company', 'Company']],
        compute: (record) => (record.is_company === true ? 'company' : 'person'),
      },
      parent_id: many2one('Related Company', 'res.partner'),
      child_ids: { type: 'one2many', string: 'Contact', relation: 'res.partner', inverseName: 'parent_id' },
      commercial_partner_id: many2one('Commercial Entity', 'res.partner', {
        compute: (record, env) => commercialPartner(record, env).id,
      }),
      type: {
        type: 'selection',
        string: 'Address Type',
        selection: [['contact', 'Contact'], ['invoice', 'Invoice Address'], ['delivery', 'Delivery Address'], ['other', 'Other Address']],
        default: () => 'contact',
      },
      ref: char('Reference'),
      vat: char('Tax ID', { help: 'The Tax Identification Number.' }),
      email: char('Email'),
      phone: char('Phone'),
      mobile: char('Mobile'),
      street: char('Street'),
      street2: char('Street2'),
      city: char('City'),
      zip: char('Zip'),
      country_id: many2one('Country', 'res.country', { ondelete: 'restrict' }),
      lang: char('Language', { default: () => 'en_US' }),
      comment: { type: 'html', string: 'Notes' },
      customer_rank: { type: 'integer', string: 'Customer Rank', default: () => 0 },
      active: bool('Active', { default: () => true }),
    },
  };

  const product: ModelDefinition = {
    name: 'product.product',
    description: 'Product Variant',
    order: 'default_code, name, id',
    nameSearchFields: ['default_code'],
    displayName: (record) => (typeof record.default_code === 'string' ? `[${record.default_code}] ${String(record.name)}` : String(record.name)),
    fields: {
      name: char('Name', { required: true }),
      default_code: char('Internal Reference'),
      barcode: char('Barcode'),
      type: {
        type: 'selection',
        string: 'Product Type',
        selection: [['consu', 'Consumable'], ['service', 'Service'], ['product', 'Storable Product']],
        default: () => 'consu',
      },
      list_price: float('Sales Price', { default: () => 1 }),
      lst_price: float('Sales Price', { compute: (record) => Number(record.list_price ?? 0) }),
      standard_price: float('Cost'),
      sale_ok: bool('Can be Sold', { default: () => true }),
      purchase_ok: bool('Can be Purchased', { default: () => true }),
      description_sale: { type: 'text', string: 'Sales Description' },
      uom_name: char('Unit of Measure Name', { compute: () => 'Units' }),
      active: bool('Active', { default: () => true }),
    },
  };

  const order: ModelDefinition = {
    name: 'sale.order',
    description: 'Sales Order',
    order: 'date_order desc, id desc',
    fields: {
      name: char('Order Reference', { required: true, default: () => 'New' }),
      partner_id: many2one('Customer', 'res.partner', { required: true }),
      partner_invoice_id: many2one('Invoice Address', 'res.partner', { compute: (record) => record.partner_id ?? null }),
      partner_shipping_id: many2one('Delivery Address', 'res.partner', { compute: (record) => record.partner_id ?? null }),
      state: { type: 'selection', string: 'Status', selection: ORDER_STATES, readonly: true, default: () => 'draft' },
      locked: bool('Locked', { help: 'Locked orders cannot be modified.', default: () => false }),
      client_order_ref: char('Customer Reference'),
      origin: char('Source Document'),
      date_order: {
        type: 'datetime',
        string: 'Order Date',
        required: true,
        help: 'Creation date of draft/sent orders,\nConfirmation date of confirmed orders.',
        default: (env) => env.now,
      },
      pricelist_id: many2one('Pricelist', 'product.pricelist', {
        default: (env) => env.rows('product.pricelist').find((row) => row.active === true)?.id ?? null,
      }),
      currency_id: many2one('Currency', 'res.currency', { compute: (record, env) => orderCurrencyId(env, record) }),
      order_line: { type: 'one2many', string: 'Order Lines', relation: 'sale.order.line', inverseName: 'order_id' },
      note: { type: 'html', string: 'Terms and conditions' },
      amount_untaxed: {
        type: 'monetary',
        string: 'Untaxed Amount',
        compute: (record, env) => roundCents(orderLines(env, record).reduce((sum, line) => sum + lineSubtotal(line), 0)),
      },
      amount_tax: {
        type: 'monetary',
        string: 'Taxes',
        compute: (record, env) => roundCents(orderLines(env, record).reduce((sum, line) => sum + lineTax(line), 0)),
      },
      amount_total: {
        type: 'monetary',
        string: 'Total',
        compute: (record, env) =>
          roundCents(orderLines(env, record).reduce((sum, line) => sum + lineSubtotal(line) + lineTax(line), 0)),
      },
      invoice_status: {
        type: 'selection',
        string: 'Invoice Status',
        selection: INVOICE_STATUSES,
        compute: (record) => (record.state === 'sale' ? 'to invoice' : 'no'),
      },
      type_name: char('Type Name', { compute: (record) => typeName(record.state) }),
    },
    prepareCreate: (row, provided, env) => {
      if (provided.name === undefined || provided.name === false || row.name === 'New') {
        row.name = env.nextSequence('sale.order', 'S', 5);
      }
    },
    beforeUnlink: (records) => {
      if (records.some((record) => record.state !== 'draft' && record.state !== 'cancel')) {
        throw userError('You can not delete a sent quotation or a confirmed sales order. You must first cancel it.');
      }
    },
    methods: {
      action_confirm: {
        parameters: [],
        onRecords: true,
        run: (env, ids) => {
          const orders = env.browse('sale.order', ids);
          for (const record of orders) {
            if (record.state !== 'draft' && record.state !== 'sent') {
              throw userError('Some orders are not in a state requiring confirmation.');
            }
            if (orderLines(env, record).some((line) => (line.display_type ?? null) === null && line.product_id === null)) {
              throw userError('A line on these orders missing a product, you cannot confirm it.');
            }
          }
          env.write('sale.order', ids, { state: 'sale', date_order: env.now });
          return true;
        },
      },
      action_cancel: {
        parameters: [],
        onRecords: true,
        run: (env, ids) => cancelOrders(env, ids, options, false),
      },
      action_draft: {
        parameters: [],
        onRecords: true,
        run: (env, ids) => {
          const orders = env.browse('sale.order', ids).filter((record) => record.state === 'cancel' || record.state === 'sent');
          if (orders.length > 0) env.write('sale.order', orders.map((record) => record.id), { state: 'draft' });
          return true;
        },
      },
      action_quotation_sent: {
        parameters: [],
        onRecords: true,
        run: (env, ids) => {
          if (env.browse('sale.order', ids).some((record) => record.state !== 'draft')) {
            throw userError('Only draft orders can be marked as sent directly.');
          }
          env.write('sale.order', ids, { state: 'sent' });
          return true;
        },
      },
      action_lock: {
        parameters: [],
        onRecords: true,
        run: (env, ids) => {
          env.write('sale.order', ids, { locked: true });
          return true;
        },
      },
      action_unlock: {
        parameters: [],
        onRecords: true,
        run: (env, ids) => {
          env.write('sale.order', ids, { locked: false });
          return true;
        },
      },
    },
  };

  const orderLine: ModelDefinition = {
    name: 'sale.order.line',
    description: 'Sales Order Line',
    order: 'order_id, sequence, id',
    displayName: (record, env) => {
      const parent = typeof record.order_id === 'number' ? env.find('sale.order', record.order_id) : undefined;
      return `${String(parent?.name ?? '')} - ${String(record.name ?? '')}`;
    },
    fields: {
      order_id: many2one('Order Reference', 'sale.order', { required: true, ondelete: 'cascade' }),
      sequence: { type: 'integer', string: 'Sequence', default: () => 10 },
      display_type: { type: 'selection', string: 'Display Type', selection: [['line_section', 'Section'], ['line_note', 'Note']] },
      product_id: many2one('Product', 'product.product', { ondelete: 'restrict' }),
      name: { type: 'text', string: 'Description', required: true },
      product_uom_qty: float('Quantity', { default: () => 1 }),
      price_unit: float('Unit Price'),
      discount: float('Discount (%)'),
      price_subtotal: { type: 'monetary', string: 'Subtotal', compute: (record) => lineSubtotal(record) },
      price_tax: { type: 'float', string: 'Total Tax', compute: (record) => lineTax(record) },
      price_total: { type: 'monetary', string: 'Total', compute: (record) => roundCents(lineSubtotal(record) + lineTax(record)) },
      currency_id: many2one('Currency', 'res.currency', {
        compute: (record, env) => {
          const parent = typeof record.order_id === 'number' ? env.find('sale.order', record.order_id) : undefined;
          return parent === undefined ? null : orderCurrencyId(env, parent);
        },
      }),
      state: {
        type: 'selection',
        string: 'Order Status',
        selection: ORDER_STATES,
        compute: (record, env) => {
          const parent = typeof record.order_id === 'number' ? env.find('sale.order', record.order_id) : undefined;
          return parent?.state ?? null;
        },
      },
      qty_delivered: float('Delivery Quantity'),
      qty_invoiced: float('Invoiced Quantity'),
    },
    prepareCreate: (row, provided, env) => {
      if (typeof row.product_id !== 'number') return;
      const item = env.find('product.product', row.product_id)!;
      if (row.name === null || row.name === '') {
        const description = typeof item.description_sale === 'string' ? `\n${item.description_sale}` : '';
        row.name = `${env.displayName('product.product', item)}${description}`;
      }
      if (provided.price_unit === undefined) row.price_unit = Number(item.list_price ?? 0);
    },
    beforeUnlink: (records, env) => {
      const confirmed = records.some((line) => {
        const parent = typeof line.order_id === 'number' ? env.find('sale.order', line.order_id) : undefined;
        return parent?.state === 'sale' && (line.display_type ?? null) === null;
      });
      if (confirmed) {
        throw userError(
          "Once a sales order is confirmed, you can't remove one of its lines (we need to track if something gets invoiced or delivered).\n"
            + 'Set the quantity to 0 instead.',
        );
      }
    },
  };

  const cancelWizard: ModelDefinition = {
    name: 'sale.order.cancel',
    description: 'Sales Order Cancel',
    order: 'id',
    recName: 'subject',
    fields: {
      order_id: many2one('Sale Order', 'sale.order', { required: true, ondelete: 'cascade' }),
      subject: char('Subject'),
      body: { type: 'html', string: 'Contents' },
      display_invoice_alert: bool('Invoice Alert', { compute: () => false }),
    },
    methods: {
      action_cancel: {
        parameters: [],
        onRecords: true,
        run: (env, ids) => {
          const wizard = env.browse('sale.order.cancel', [ensureOne('sale.order.cancel', ids)])[0]!;
          return cancelOrders(env.withContext({ disable_cancel_warning: true }), [wizard.order_id as number], options, true);
        },
      },
      action_send_mail_and_cancel: {
        parameters: [],
        onRecords: true,
        run: (env, ids) => {
          const wizard = env.browse('sale.order.cancel', [ensureOne('sale.order.cancel', ids)])[0]!;
          return cancelOrders(env.withContext({ disable_cancel_warning: true }), [wizard.order_id as number], options, true);
        },
      },
    },
  };

  return [country, currency, pricelist, partner, product, order, orderLine, cancelWizard];
}

function commercialPartner(record: StoredRecord, env: Environment): StoredRecord {
  let current = record;
  const seen = new Set<number>();
  while (current.is_company !== true && typeof current.parent_id === 'number' && !seen.has(current.id)) {
    seen.add(current.id);
    const parent = env.find('res.partner', current.parent_id);
    if (parent === undefined) break;
    current = parent;
  }
  return current;
}

/** `Azure Interior, Brandon Freeman` for a contact of a company, the name otherwise. */
function completeName(record: StoredRecord, env: Environment): string {
  const name = typeof record.name === 'string' ? record.name : '';
  if (record.is_company === true || typeof record.parent_id !== 'number') return name;
  const parent = env.find('res.partner', record.parent_id);
  if (parent === undefined || typeof parent.name !== 'string') return name;
  return name === '' ? parent.name : `${parent.name}, ${name}`;
}
