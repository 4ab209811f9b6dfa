/**
 * The sandbox's Customer card page service (page 21, published as `Customer`): Create
 * with NAV's number series and field validation (Search Name follows Name, Country/Region
 * Code must exist), Read by `No` and ReadMultiple.
 */
import type { XmlElement } from '../../../functions/connectors/soap/xml-reader.ts';
import type { XmlFields } from '../../../functions/connectors/soap/xml-writer.ts';
import { dialog, tableRelation } from './nav-errors.ts';
import { entityContent, readEntityFields, readMultiple, readParameter, type PageDefinition } from './page-fields.ts';
import { recordKey } from './record-keys.ts';
import { SEED_COUNTRIES } from './seed.ts';
import type { NavRecord, NavStore } from './store.ts';

/** The Customer card's fields the sandbox publishes, in page order (BC field lengths). */
export const CUSTOMER_PAGE: PageDefinition = {
  service: 'Customer',
  table: 'Customer',
  fields: [
    { name: 'No', caption: 'No.', kind: 'code', length: 20, editable: true },
    { name: 'Name', caption: 'Name', kind: 'text', length: 100, editable: true },
    { name: 'Search_Name', caption: 'Search Name', kind: 'code', length: 100, editable: true },
    { name: 'Address', caption: 'Address', kind: 'text', length: 100, editable: true },
    { name: 'Post_Code', caption: 'Post Code', kind: 'code', length: 20, editable: true },
    { name: 'City', caption: 'City', kind: 'text', length: 30, editable: true },
    { name: 'Country_Region_Code', caption: 'Country/Region Code', kind: 'code', length: 10, editable: true },
    { name: 'Phone_No', caption: 'Phone No.', kind: 'text', length: 30, editable: true },
    { name: 'E_Mail', caption: 'E-Mail', kind: 'text', length: 80, editable: true },
    { name: 'VAT_Registration_No', caption: 'VAT Registration No.', kind: 'text', length: 20, editable: true },
  ],
};

/** The Customer page's operations over the store. */
export class CustomerPage {
  private readonly store: NavStore;

  constructor(store: NavStore) {
    this.store = store;
  }

  /** `Create`: validates every field in page order, then takes a number and inserts. */
  create(entity: XmlElement): NavRecord {
    const { values } = readEntityFields(CUSTOMER_PAGE, entity);
    const fields: Record<string, string | number> = {};
    for (const [name, value] of values) {
      if (name === 'No') {
        if (value !== '') throw dialog('You may not enter numbers manually. If you want to enter numbers manually, please activate Manual Nos. in No. Series CUST.');
        continue;
      }
      if (name === 'Name') {
        // Table 18, Name OnValidate: Search Name follows Name unless someone set it apart.
        const previous = String(fields.Name ?? '').toUpperCase();
        if (fields.Search_Name === undefined || fields.Search_Name === previous) fields.Search_Name = String(value).toUpperCase().slice(0, 100);
      }
      if (name === 'Country_Region_Code' && value !== '' && !SEED_COUNTRIES.has(String(value))) {
        throw tableRelation('Country/Region Code', 'Customer', String(value), 'Country/Region');
      }
      fields[name] = value;
    }
    return this.store.put('Customer', this.store.nextNumber('Customer'), fields);
  }

  /** `Read(No)`: the customer, or undefined. */
  read(request: XmlElement): NavRecord | undefined {
    return this.store.get('Customer', readParameter(request, 'No'));
  }

  /** `ReadMultiple(filter, bookmarkKey, setSize)`. */
  readMultiple(request: XmlElement): NavRecord[] {
    return readMultiple(CUSTOMER_PAGE, this.store.scan('Customer'), request);
  }

  /** The `<Customer>` element's content for a record. */
  entity(record: NavRecord): XmlFields {
    return entityContent(CUSTOMER_PAGE, recordKey(record), { ...record.fields, No: record.no });
  }
}
