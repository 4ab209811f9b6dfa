/**
 * The Pipedrive adapter of `CrmPort`: reads a deal with its products, organization and
 * person through API v2, and writes Harmony's ERP status into three deal custom fields.
 * Custom fields are named in settings and resolved to their 40-character keys through
 * `GET /api/v1/dealFields` (cached), or taken as keys when a setting already is one.
 */
import { PermanentError } from '../../../core/errors.ts';
import type { RateLimiter } from '../../../core/rate-limit.ts';
import { ReferenceCache } from '../../../core/reference-cache.ts';
import type { CrmPort, Deal, DealSyncUpdate } from '../port.ts';
import { PipedriveClient, type PipedriveAuth } from './client.ts';
import {
  dealProductToLine,
  isFieldKey,
  PIPEDRIVE_SYSTEM,
  PipedriveDeal,
  PipedriveDealProduct,
  PipedriveField,
  PipedriveOrganization,
  PipedrivePerson,
  PipedriveProduct,
  TEXT_FIELD_TYPES,
  toDeal,
  toSyncCustomFields,
  type SyncFieldKeys,
} from './mapping.ts';

/** The deal custom fields Harmony writes, by name (or key); the defaults are the names the README asks admins to create. */
export const DEFAULT_SYNC_FIELDS: SyncFieldKeys = {
  orderRef: 'Harmony ERP order',
  status: 'Harmony ERP status',
  syncError: 'Harmony sync error',
};

/** How long product codes and field keys are kept before they are read again. */
export const DEFAULT_REFERENCE_TTL_MS = 10 * 60_000;

/** How the adapter reaches one Pipedrive company. */
export interface PipedriveCrmOptions {
  /** The company domain, e.g. `https://acme.pipedrive.com` (OAuth: replaced by the token's `api_domain`). */
  readonly apiUrl: URL;
  readonly auth: PipedriveAuth;
  /** Names or keys of the deal custom fields Harmony writes. @default DEFAULT_SYNC_FIELDS */
  readonly syncFields?: Partial<SyncFieldKeys>;
  /** Name or key of the organization custom field holding the VAT number. @default none */
  readonly vatField?: string | undefined;
  readonly timeoutMs: number;
  readonly rateLimiter?: RateLimiter | undefined;
  /** @default DEFAULT_REFERENCE_TTL_MS */
  readonly referenceTtlMs?: number;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

/** Field keys by lower-cased field name (several when names repeat), per company and entity. */
const fieldKeys = new ReferenceCache<readonly PipedriveField[]>(DEFAULT_REFERENCE_TTL_MS);
/** Products by company and id, for their codes. */
const products = new ReferenceCache<PipedriveProduct>(DEFAULT_REFERENCE_TTL_MS);

/** `CrmPort` for Pipedrive. */
export class PipedriveCrm implements CrmPort {
  readonly system = PIPEDRIVE_SYSTEM;
  readonly #client: PipedriveClient;
  readonly #syncFields: SyncFieldKeys;
  readonly #vatField: string | undefined;
  readonly #fieldKeys: ReferenceCache<readonly PipedriveField[]>;
  readonly #products: ReferenceCache<PipedriveProduct>;

  constructor(options: PipedriveCrmOptions) {
    this.#client = new PipedriveClient(options);
    this.#syncFields = { ...DEFAULT_SYNC_FIELDS, ...options.syncFields };
    this.#vatField = options.vatField;
    const ttl = options.referenceTtlMs;
    this.#fieldKeys = ttl === undefined ? fieldKeys : new ReferenceCache(ttl);
    this.#products = ttl === undefined ? products : new ReferenceCache(ttl);
  }

  /** Reads the deal, then its products, organization and person in parallel. */
  async getDeal(dealId: string): Promise<Deal> {
    const id = dealIdOf(dealId);
    const deal = await this.#client.get(`GET deal ${id}`, `/api/v2/deals/${id}`, PipedriveDeal);
    const [lines, organization, person, vatKey] = await Promise.all([
      this.#lines(id),
      deal.org_id === null || deal.org_id === undefined ? undefined : this.#client.get(`GET organization ${deal.org_id}`, `/api/v2/organizations/${deal.org_id}`, PipedriveOrganization),
      deal.person_id === null || deal.person_id === undefined ? undefined : this.#client.get(`GET person ${deal.person_id}`, `/api/v2/persons/${deal.person_id}`, PipedrivePerson),
      deal.org_id === null || deal.org_id === undefined || this.#vatField === undefined ? undefined : this.#fieldKey('organization', this.#vatField, 'PIPEDRIVE_VAT_FIELD', false),
    ]);
    return toDeal({ deal, lines, organization, person, vatKey });
  }

  /** PATCHes the sync custom fields; the same values twice change nothing. */
  async updateDeal(dealId: string, update: DealSyncUpdate): Promise<void> {
    const id = dealIdOf(dealId);
    const [orderRef, status, syncError] = await Promise.all([
      this.#fieldKey('deal', this.#syncFields.orderRef, 'PIPEDRIVE_ORDER_REF_FIELD', true),
      this.#fieldKey('deal', this.#syncFields.status, 'PIPEDRIVE_STATUS_FIELD', true),
      this.#fieldKey('deal', this.#syncFields.syncError, 'PIPEDRIVE_SYNC_ERROR_FIELD', true),
    ]);
    await this.#client.patch(`PATCH deal ${id}`, `/api/v2/deals/${id}`, { custom_fields: toSyncCustomFields(update, { orderRef, status, syncError }) }, PipedriveDeal);
  }

  async #lines(dealId: number) {
    const dealProducts = (await this.#client.listByCursor(`GET deal ${dealId} products`, `/api/v2/deals/${dealId}/products`, PipedriveDealProduct))
      // A disabled deal product does not count towards the deal's value in Pipedrive: it is not sold.
      .filter((dealProduct) => dealProduct.is_enabled !== false);
    const scope = this.#client.scope;
    const found = await this.#products.resolve(
      dealProducts.map((dealProduct) => `${scope}|${dealProduct.product_id}`),
      async (missing) => {
        const loaded = await Promise.all(
          missing.map(async (key) => {
            const productId = key.slice(scope.length + 1);
            return [key, await this.#client.get(`GET product ${productId}`, `/api/v2/products/${productId}`, PipedriveProduct)] as const;
          }),
        );
        return new Map(loaded);
      },
    );
    return dealProducts.map((dealProduct, index) => dealProductToLine(dealProduct, found.get(`${scope}|${dealProduct.product_id}`), index));
  }

  /**
   * The key of a custom field given by key or by name. A name must match exactly one field
   * (case aside); when `text` is set, of a type that holds free text.
   * @param setting the setting that named it, for the error
   */
  async #fieldKey(entity: 'deal' | 'organization', nameOrKey: string, setting: string, text: boolean): Promise<string> {
    if (isFieldKey(nameOrKey)) return nameOrKey;
    const prefix = `${this.#client.scope}|${entity}|`;
    const wanted = `${prefix}${nameOrKey.trim().toLowerCase()}`;
    const found = await this.#fieldKeys.resolve([wanted], async () => {
      const fields = await this.#client.listByOffset(`GET ${entity}Fields`, `/api/v1/${entity}Fields`, PipedriveField);
      const byName = new Map<string, PipedriveField[]>();
      for (const field of fields) {
        const key = `${prefix}${field.name.trim().toLowerCase()}`;
        byName.set(key, [...(byName.get(key) ?? []), field]);
      }
      return byName;
    });
    const matches = found.get(wanted) ?? [];
    const fail = (problem: string) =>
      new PermanentError(`${PIPEDRIVE_SYSTEM} configuration — ${setting}: ${problem}`, { system: PIPEDRIVE_SYSTEM, code: 'configuration' });
    if (matches.length === 0) throw fail(`Pipedrive has no ${entity} field named "${nameOrKey}"; create it (Company settings → Data fields) or set the field's key`);
    if (matches.length > 1) throw fail(`several ${entity} fields are named "${nameOrKey}" (${matches.map((field) => field.key).join(', ')}); set the key of the one to use`);
    const field = matches[0]!;
    if (text && !TEXT_FIELD_TYPES.has(field.field_type)) {
      throw fail(`the ${entity} field "${field.name}" is of type ${field.field_type}; Harmony writes text, so make it a text field`);
    }
    return field.key;
  }
}

/** Pipedrive ids are positive integers; anything else can only be a caller's mistake. */
function dealIdOf(dealId: string): number {
  if (!/^[1-9]\d{0,14}$/.test(dealId)) {
    throw new PermanentError(`${PIPEDRIVE_SYSTEM}: a deal id is a positive integer, got ${JSON.stringify(dealId)}`, { system: PIPEDRIVE_SYSTEM, code: 'invalid_id' });
  }
  return Number(dealId);
}
