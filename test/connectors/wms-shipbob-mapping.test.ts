/**
 * ShipBob payloads recorded from its documentation (test/fixtures/wms/shipbob, see
 * SOURCES.md) read by the adapter's schemas and mapping: orders, cancellations, inventory,
 * history, returns, tokens and error bodies; the Status Reference table row by row; and the
 * drafts Harmony sends.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PermanentError } from '../../functions/core/errors.ts';
import { parseVendorJson } from '../../functions/core/vendor-http.ts';
import { describeShipBobFailure } from '../../functions/connectors/wms/shipbob/client.ts';
import { checkFulfillmentDraft, createOrderBody, toFulfillmentOrder, toReturnReceipt, toStockLevel } from '../../functions/connectors/wms/shipbob/mapping.ts';
import {
  CanceledOrder,
  FulfillmentCenterList,
  InventoryHistoryPage,
  InventoryLevel,
  InventoryLevelPage,
  Order,
  OrderList,
  Return,
  ReturnPage,
  ShipBobDateTime,
  TokenAnswer,
  TokenError,
} from '../../functions/connectors/wms/shipbob/vendor-shapes.ts';
import type { FulfillmentStatus } from '../../functions/connectors/wms/port.ts';

const fixture = (name: string): string => readFileSync(join(import.meta.dirname, '../fixtures/wms/shipbob', name), 'utf8');
const METHODS = { standard: 'Standard', priority: 'Free 2-day Shipping' };

/** The documented example with its `"string"` placeholders replaced by documented enum values. */
function withDocumentedValues(text: string, status: string): unknown {
  const body = JSON.parse(text) as Record<string, unknown>;
  const fix = (entry: Record<string, unknown>) => {
    entry.status = status;
    for (const item of (entry.inventory ?? []) as Record<string, unknown>[]) {
      item.quantity = 3;
      item.action_taken = [
        { action: 'Restock', action_reason: null, quantity_processed: 2 },
        { action: 'Quarantine', action_reason: 'Torn packaging', quantity_processed: 1 },
      ];
    }
  };
  if (Array.isArray(body.items)) (body.items as Record<string, unknown>[]).forEach(fix);
  else fix(body);
  return body;
}

describe('ShipBob recorded payloads', () => {
  it('reads the create-order answer: ShipBob status None is received, tracking from the shipment, shipping method as priority', () => {
    const order = toFulfillmentOrder(parseVendorJson('shipbob', 'POST /order', fixture('create-order-201.json'), Order), METHODS);
    expect(order).toMatchObject({ id: '0', externalRef: 'string', status: 'received', statusChangedAt: '2019-08-24T14:15:22.000Z', priority: 'priority' });
    expect(order.lines).toEqual([{ sku: 'TShirtBlueM', quantity: 0 }]);
    expect(order.tracking).toEqual([
      { carrier: 'USPS', trackingNumber: '860C8CDC8F0B4FC7AB69AC86C20539EC', trackingUrl: 'https://www.example.com/tracking?id=860C8CDC8F0B4FC7AB69AC86C20539EC' },
    ]);
    expect(order.history).toEqual([{ status: 'received', at: '2019-08-24T14:15:22.000Z' }]);
    expect(toFulfillmentOrder(parseVendorJson('shipbob', 'POST /order', fixture('create-order-201.json'), Order), { standard: 'Standard', priority: 'Expedited' }).priority).toBe('standard');
  });

  it('reads the order list and the cancellation answer', () => {
    expect(parseVendorJson('shipbob', 'GET /order', fixture('get-orders-200.json'), OrderList)).toHaveLength(1);
    const cancelled = parseVendorJson('shipbob', 'POST /order/{orderId}:cancel', fixture('cancel-order-200.json'), CanceledOrder);
    expect(cancelled.status).toBe('Success');
    expect(cancelled.canceled_shipment_results?.[0]).toMatchObject({ is_success: true, action: 'Cancel' });
  });

  it('reads inventory levels, history and fulfillment centers', () => {
    const page = parseVendorJson('shipbob', 'GET /inventory-level', fixture('inventory-level-200.json'), InventoryLevelPage);
    expect(page.next).toBe('string');
    expect(toStockLevel(InventoryLevel.parse(page.items![0]))).toEqual({ sku: 'string', onHand: 0, available: 0, reserved: 0 });
    const history = parseVendorJson('shipbob', 'POST /inventory/history:query', fixture('inventory-history-200.json'), InventoryHistoryPage);
    expect(history.data?.[0]).toMatchObject({ inventory_audit_event_id: 0, inventory_id: 0, event_datetime: '2019-08-24T14:15:22.000Z' });
    expect(parseVendorJson('shipbob', 'GET /fulfillment-center', fixture('fulfillment-centers-200.json'), FulfillmentCenterList)[0]).toMatchObject({ id: 0, name: 'Cicero (IL)' });
  });

  it('refuses the return example’s placeholder action with the path named, and reads it with documented values', () => {
    const error = (() => {
      try {
        return parseVendorJson('shipbob', 'GET /return/{id}', fixture('get-return-200.json'), Return);
      } catch (caught) {
        return caught;
      }
    })() as PermanentError;
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toContain('inventory.0.action_taken.0.action');

    const found = Return.parse(withDocumentedValues(fixture('get-return-200.json'), 'Completed'));
    expect(toReturnReceipt(found, () => undefined)).toEqual({
      id: '0',
      externalRef: 'string',
      status: 'completed',
      completedAt: '2019-08-24T14:15:22.000Z',
      lines: [
        {
          sku: 'string',
          expectedQuantity: 3,
          receivedQuantity: 3,
          received: [
            { quantity: 2, condition: 'sellable', disposition: 'restock' },
            { quantity: 1, condition: 'damaged', disposition: 'quarantine', reason: 'Torn packaging' },
          ],
        },
      ],
    });
  });

  it('names the SKU of a create-return answer (which has none) by its inventory id, and reads "Awaiting Arrival" with or without the space', () => {
    const created = Return.parse(withDocumentedValues(fixture('create-return-201.json'), 'Awaiting Arrival'));
    const receipt = toReturnReceipt(created, (id) => (id === 0 ? 'WIDGET-1' : undefined));
    expect(receipt).toMatchObject({ status: 'awaiting', lines: [{ sku: 'WIDGET-1', expectedQuantity: 3 }] });
    expect(() => toReturnReceipt(created, () => undefined)).toThrow(/inventory 0 has no SKU/);
    const page = ReturnPage.parse(withDocumentedValues(fixture('get-returns-200.json'), 'AwaitingArrival'));
    expect(toReturnReceipt(page.items![0]!, () => undefined).status).toBe('awaiting');
    expect(() => toReturnReceipt(Return.parse({ ...created, status: 'Lost' }), () => 'X')).toThrow(/unknown status "Lost"/);
  });

  it('reads the token answer and the token error', () => {
    expect(parseVendorJson('shipbob', 'POST connect/token', fixture('token-refresh-200.json'), TokenAnswer)).toMatchObject({ expires_in: 3600, token_type: 'Bearer' });
    expect(parseVendorJson('shipbob', 'POST connect/token', fixture('token-error-400.json'), TokenError).error).toBe('invalid_grant');
  });

  it('describes every documented error body by what it says', () => {
    expect(describeShipBobFailure(400, fixture('create-order-400.json'))).toBe('property1: string; property2: string');
    expect(describeShipBobFailure(422, fixture('duplicate-reference-422.json'))).toBe('Cannot insert order with existing ReferenceId');
    expect(describeShipBobFailure(422, fixture('create-return-422.json'))).toBe('string — string');
    expect(describeShipBobFailure(400, fixture('inventory-level-400.json'))).toBe('string — string');
    expect(describeShipBobFailure(429, fixture('rate-limit-429.json'))).toBe('Rate limit is exceeded. Try again in 25 seconds.');
    expect(describeShipBobFailure(502, '<html>Bad gateway</html>')).toBe('<html>Bad gateway</html>');
  });
});

describe('ShipBob Status Reference', () => {
  const rows = JSON.parse(fixture('status-reference.json')) as { status: string; detail: string; description: string; id: number }[];
  const expected: Record<string, FulfillmentStatus> = {
    'Processing/Picked': 'picking',
    'Processing/Packed': 'packed',
    'Processing/Labeled': 'packed',
    'Completed/Processing': 'shipped',
    'Completed/InTransit': 'shipped',
    'Completed/OutForDelivery': 'shipped',
    'Completed/Delivered': 'delivered',
    'Completed/DeliveryException': 'shipped',
  };

  it.each(rows)('$status / $detail ($id)', (row) => {
    const order = Order.parse({
      id: 1,
      reference_id: 'S00042',
      created_date: '2026-03-02T08:00:00Z',
      status: 'Processing',
      shipments: [{ id: 2, status: row.status, status_details: [{ id: row.id, name: row.detail, description: row.description }], last_update_at: '2026-03-02T09:00:00Z' }],
    });
    const mapped = toFulfillmentOrder(order, METHODS);
    const want = expected[`${row.status}/${row.detail}`] ?? 'exception';
    expect(mapped.status).toBe(want);
    if (want === 'exception' || row.detail === 'DeliveryException') expect(mapped.exceptionReason).toContain(row.description);
    else expect(mapped.exceptionReason).toBeUndefined();
  });

  it('an order is as far as its least advanced live shipment, held while any is held, and cancelled when all are', () => {
    const shipment = (id: number, status: string, detail?: string) => ({ id, status, status_details: detail === undefined ? [] : [{ name: detail, description: detail }] });
    const order = (shipments: unknown[], status = 'Processing') => toFulfillmentOrder(Order.parse({ id: 1, reference_id: 'S1', created_date: '2026-03-02T08:00:00Z', status, shipments }), METHODS);
    expect(order([shipment(1, 'Completed', 'Delivered'), shipment(2, 'Processing', 'Packed')]).status).toBe('packed');
    expect(order([shipment(1, 'Completed'), shipment(2, 'Cancelled')]).status).toBe('shipped');
    expect(order([shipment(1, 'Completed'), shipment(2, 'OnHold', 'InvalidAddress')]).status).toBe('exception');
    expect(order([shipment(1, 'Cancelled'), shipment(2, 'Cancelled')]).status).toBe('cancelled');
    expect(order([], 'ImportReview').status).toBe('received');
  });

  it('dates a delivered order’s history from ShipBob’s fulfillment and delivery dates', () => {
    const delivered = toFulfillmentOrder(
      Order.parse({
        id: 1,
        reference_id: 'S1',
        created_date: '2026-03-02T08:00:00Z',
        status: 'Fulfilled',
        shipments: [
          {
            id: 2,
            status: 'Completed',
            status_details: [{ name: 'Delivered' }],
            actual_fulfillment_date: '2026-03-02T15:00:00+00:00',
            delivery_date: '2026-03-04T11:30:00',
            last_update_at: '2026-03-04T11:31:00Z',
            tracking: { carrier: 'UPS', tracking_number: '1Z999AA10123456784' },
          },
        ],
      }),
      METHODS,
    );
    expect(delivered.history).toEqual([
      { status: 'received', at: '2026-03-02T08:00:00.000Z' },
      { status: 'shipped', at: '2026-03-02T15:00:00.000Z' },
      { status: 'delivered', at: '2026-03-04T11:30:00.000Z' },
    ]);
    expect(delivered.statusChangedAt).toBe('2026-03-04T11:30:00.000Z');
  });

  it('reads ShipBob date-times with Z, with an offset, or without one as UTC, and refuses anything else', () => {
    expect(ShipBobDateTime.parse('2019-08-24T14:15:22Z')).toBe('2019-08-24T14:15:22.000Z');
    expect(ShipBobDateTime.parse('2019-08-24T16:15:22+02:00')).toBe('2019-08-24T14:15:22.000Z');
    expect(ShipBobDateTime.parse('2019-08-24T14:15:22.5')).toBe('2019-08-24T14:15:22.500Z');
    expect(ShipBobDateTime.safeParse('yesterday').success).toBe(false);
  });
});

describe('ShipBob drafts', () => {
  const draft = {
    externalRef: 'S00042',
    priority: 'priority' as const,
    shipTo: { name: 'Greta Nordwind', company: 'Nordwind Handels GmbH', street: 'Hafenstraße 7', street2: '3. OG', city: 'Hamburg', postalCode: '20457', countryCode: 'DE', phone: '+49 40 555 0101' },
    lines: [{ sku: 'WIDGET-1', name: 'Widget', quantity: 4 }],
  };

  it('sends the ReferenceId model: products by SKU with their names, the ERP number as reference and order number', () => {
    expect(createOrderBody(draft, { standard: 'Standard', priority: 'Expedited' })).toEqual({
      reference_id: 'S00042',
      order_number: 'S00042',
      type: 'DTC',
      shipping_method: 'Expedited',
      recipient: {
        name: 'Greta Nordwind',
        address: { address1: 'Hafenstraße 7', address2: '3. OG', company_name: 'Nordwind Handels GmbH', city: 'Hamburg', zip_code: '20457', country: 'DE' },
        phone_number: '+49 40 555 0101',
      },
      products: [{ reference_id: 'WIDGET-1', name: 'Widget', quantity: 4 }],
    });
  });

  it('names each field ShipBob could not take', () => {
    const attempt = (change: Record<string, unknown>) => {
      try {
        checkFulfillmentDraft({ ...draft, ...change } as typeof draft);
        return '';
      } catch (error) {
        expect(error).toBeInstanceOf(PermanentError);
        return (error as Error).message;
      }
    };
    expect(attempt({ shipTo: { ...draft.shipTo, countryCode: 'Germany' } })).toContain('draft.shipTo.countryCode: expected an ISO 3166-1 alpha-2 code');
    expect(attempt({ externalRef: 'S1,S2' })).toContain('draft.externalRef: must not contain a comma');
    expect(attempt({ lines: [] })).toContain('draft.lines: at least one line');
    expect(attempt({ priority: 'urgent' })).toContain('draft.priority');
    expect(attempt({})).toBe('');
  });
});
