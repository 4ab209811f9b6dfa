/**
 * Reads an Odoo (the sandbox, or a real one) through an existing community client,
 * `odoo-xmlrpc`, so the demo and end-to-end tests see the ERP through a client Harmony did not write.
 */
import { createRequire } from 'node:module';

interface OdooXmlRpc {
  connect(callback: (error: unknown, uid: unknown) => void): void;
  execute_kw(model: string, method: string, params: unknown[], callback: (error: unknown, value: unknown) => void): void;
}
type OdooXmlRpcConstructor = new (options: { url: string; port: number; db: string; username: string; password: string }) => OdooXmlRpc;
const OdooXmlRpcClient = createRequire(import.meta.url)('odoo-xmlrpc') as OdooXmlRpcConstructor;

/** A sale order as the test reads it. */
export interface SaleOrderRow {
  readonly id: number;
  readonly name: string;
  readonly state: string;
  readonly client_order_ref: string | false;
  readonly partner_id: [number, string];
  readonly amount_total: number;
}

/** Connects as the given user and returns a small reader. */
export async function connectOdooReader(options: { url: string; db: string; username: string; password: string }) {
  const url = new URL(options.url);
  const client = new OdooXmlRpcClient({
    url: `${url.protocol}//${url.hostname}`,
    port: Number(url.port),
    db: options.db,
    username: options.username,
    password: options.password,
  });
  const call = <Value>(start: (callback: (error: unknown, value: Value) => void) => void) =>
    new Promise<Value>((resolve, reject) => start((error, value) => (error ? reject(error) : resolve(value))));
  await call((callback) => client.connect(callback));
  return {
    /** Every sale order carrying this client reference, cancelled ones included. */
    ordersWithRef: (reference: string) =>
      call<SaleOrderRow[]>((callback) =>
        client.execute_kw('sale.order', 'search_read', [[[['client_order_ref', '=', reference]], ['name', 'state', 'client_order_ref', 'partner_id', 'amount_total']]], callback as never),
      ),
    /** Ids of the active partners carrying this reference (`ref`, where Harmony keeps the CRM id). */
    partnerIdsWithRef: (reference: string) =>
      call<number[]>((callback) => client.execute_kw('res.partner', 'search', [[[['ref', '=', reference]]]], callback as never)),
  };
}
