/**
 * The entity sets the SAP sandbox serves, as their `$metadata` declares them (a subset
 * of each type's properties): keys, property kinds and lengths, which properties SAP
 * converts (`alpha`: numbers without leading zeros outside, padded inside; `upper`:
 * upper case), navigation properties and the ETag property. Formatting, `$filter`,
 * `$expand` and deep insert all read their rules from here.
 */

/** How a property is kept and written on the wire. */
export type PropertyKind = 'string' | 'amount' | 'quantity' | 'rate' | 'date' | 'timestamp' | 'boolean';

/** One property. */
export interface PropertyDefinition {
  readonly kind: PropertyKind;
  readonly maxLength?: number;
  /** ALPHA conversion: `0000004711` inside is `4711` on the wire; input is accepted either way. */
  readonly alpha?: boolean;
  /** `sap:display-format="UpperCase"`: SAP upper-cases what it is given. */
  readonly upper?: boolean;
  /** `sap:creatable="false" sap:updatable="false"`: SAP computes it. */
  readonly computed?: boolean;
}

/** A navigation property: the target set and which of its properties equal which of ours. */
export interface NavigationDefinition {
  readonly target: string;
  readonly many: boolean;
  /** target property → source property */
  readonly join: Readonly<Record<string, string>>;
}

/** One entity set. */
export interface EntitySetDefinition {
  readonly service: 'API_SALES_ORDER_SRV' | 'API_BUSINESS_PARTNER';
  readonly name: string;
  /** The entity type, e.g. `A_SalesOrderType`. */
  readonly type: string;
  readonly keys: readonly string[];
  readonly properties: Readonly<Record<string, PropertyDefinition>>;
  readonly navigations: Readonly<Record<string, NavigationDefinition>>;
  /** The concurrency-token property (`ConcurrencyMode="Fixed"`). */
  readonly etag?: string;
}

const text = (maxLength: number, extra: Omit<PropertyDefinition, 'kind' | 'maxLength'> = {}): PropertyDefinition => ({ kind: 'string', maxLength, ...extra });
const code = (maxLength: number, extra: Omit<PropertyDefinition, 'kind' | 'maxLength'> = {}): PropertyDefinition => text(maxLength, { upper: true, ...extra });
const computed = (definition: PropertyDefinition): PropertyDefinition => ({ ...definition, computed: true });

const SETS: readonly EntitySetDefinition[] = [
  {
    service: 'API_BUSINESS_PARTNER',
    name: 'A_BusinessPartner',
    type: 'A_BusinessPartnerType',
    keys: ['BusinessPartner'],
    properties: {
      BusinessPartner: code(10, { alpha: true }),
      Customer: computed(code(10, { alpha: true })),
      BusinessPartnerCategory: code(1),
      BusinessPartnerFullName: computed(text(81)),
      BusinessPartnerName: computed(text(81)),
      BusinessPartnerGrouping: code(4),
      BusinessPartnerIDByExtSystem: code(20),
      BusinessPartnerIsBlocked: { kind: 'boolean' },
      CorrespondenceLanguage: text(2),
      CreationDate: computed({ kind: 'date' }),
      FirstName: text(40),
      LastName: text(40),
      OrganizationBPName1: text(40),
      OrganizationBPName2: text(40),
      OrganizationBPName3: text(40),
      OrganizationBPName4: text(40),
      SearchTerm1: code(20),
      SearchTerm2: code(20),
    },
    navigations: {
      to_BusinessPartnerRole: { target: 'A_BusinessPartnerRole', many: true, join: { BusinessPartner: 'BusinessPartner' } },
      to_BusinessPartnerAddress: { target: 'A_BusinessPartnerAddress', many: true, join: { BusinessPartner: 'BusinessPartner' } },
      to_BusinessPartnerTax: { target: 'A_BusinessPartnerTaxNumber', many: true, join: { BusinessPartner: 'BusinessPartner' } },
      to_Customer: { target: 'A_Customer', many: false, join: { Customer: 'Customer' } },
    },
  },
  {
    service: 'API_BUSINESS_PARTNER',
    name: 'A_BusinessPartnerRole',
    type: 'A_BusinessPartnerRoleType',
    keys: ['BusinessPartner', 'BusinessPartnerRole'],
    properties: { BusinessPartner: code(10, { alpha: true }), BusinessPartnerRole: code(6), ValidFrom: { kind: 'timestamp' }, ValidTo: { kind: 'timestamp' } },
    navigations: {},
  },
  {
    service: 'API_BUSINESS_PARTNER',
    name: 'A_BusinessPartnerAddress',
    type: 'A_BusinessPartnerAddressType',
    keys: ['BusinessPartner', 'AddressID'],
    properties: {
      BusinessPartner: code(10, { alpha: true }),
      AddressID: code(10, { alpha: true }),
      CityName: text(40),
      Country: code(3),
      HouseNumber: text(10),
      Language: text(2),
      PostalCode: code(10),
      StreetName: text(60),
    },
    navigations: {
      to_EmailAddress: { target: 'A_AddressEmailAddress', many: true, join: { AddressID: 'AddressID' } },
      to_PhoneNumber: { target: 'A_AddressPhoneNumber', many: true, join: { AddressID: 'AddressID' } },
    },
  },
  {
    service: 'API_BUSINESS_PARTNER',
    name: 'A_AddressEmailAddress',
    type: 'A_AddressEmailAddressType',
    keys: ['AddressID', 'Person', 'OrdinalNumber'],
    properties: {
      AddressID: code(10, { alpha: true }),
      Person: code(10, { alpha: true }),
      OrdinalNumber: text(3),
      IsDefaultEmailAddress: { kind: 'boolean' },
      EmailAddress: text(241),
      SearchEmailAddress: code(20),
    },
    navigations: {},
  },
  {
    service: 'API_BUSINESS_PARTNER',
    name: 'A_AddressPhoneNumber',
    type: 'A_AddressPhoneNumberType',
    keys: ['AddressID', 'Person', 'OrdinalNumber'],
    properties: {
      AddressID: code(10, { alpha: true }),
      Person: code(10, { alpha: true }),
      OrdinalNumber: text(3),
      DestinationLocationCountry: code(3),
      IsDefaultPhoneNumber: { kind: 'boolean' },
      PhoneNumber: code(30),
    },
    navigations: {},
  },
  {
    service: 'API_BUSINESS_PARTNER',
    name: 'A_BusinessPartnerTaxNumber',
    type: 'A_BusinessPartnerTaxNumberType',
    keys: ['BusinessPartner', 'BPTaxType'],
    properties: { BusinessPartner: code(10, { alpha: true }), BPTaxType: code(4), BPTaxNumber: code(20) },
    navigations: {},
  },
  {
    service: 'API_BUSINESS_PARTNER',
    name: 'A_Customer',
    type: 'A_CustomerType',
    keys: ['Customer'],
    properties: {
      Customer: code(10, { alpha: true }),
      CustomerName: computed(text(80)),
      CustomerFullName: computed(code(220)),
      DeletionIndicator: { kind: 'boolean' },
      OrderIsBlockedForCustomer: code(2),
    },
    navigations: { to_CustomerSalesArea: { target: 'A_CustomerSalesArea', many: true, join: { Customer: 'Customer' } } },
  },
  {
    service: 'API_BUSINESS_PARTNER',
    name: 'A_CustomerSalesArea',
    type: 'A_CustomerSalesAreaType',
    keys: ['Customer', 'SalesOrganization', 'DistributionChannel', 'Division'],
    properties: {
      Customer: code(10, { alpha: true }),
      SalesOrganization: code(4),
      DistributionChannel: code(2),
      Division: code(2),
      Currency: code(5),
      CustomerPaymentTerms: code(4),
      OrderIsBlockedForCustomer: code(2),
    },
    navigations: {},
  },
  {
    service: 'API_SALES_ORDER_SRV',
    name: 'A_SalesOrder',
    type: 'A_SalesOrderType',
    keys: ['SalesOrder'],
    etag: 'LastChangeDateTime',
    properties: {
      SalesOrder: code(10, { alpha: true }),
      SalesOrderType: code(4),
      SalesOrganization: code(4),
      DistributionChannel: code(2),
      OrganizationDivision: code(2),
      SalesGroup: code(3),
      SalesOffice: code(4),
      SoldToParty: code(10, { alpha: true }),
      CreationDate: computed({ kind: 'date' }),
      CreatedByUser: computed(code(12)),
      LastChangeDate: computed({ kind: 'date' }),
      LastChangeDateTime: computed({ kind: 'timestamp' }),
      PurchaseOrderByCustomer: text(35),
      CustomerPurchaseOrderDate: { kind: 'date' },
      SalesOrderDate: { kind: 'date' },
      RequestedDeliveryDate: { kind: 'date' },
      PricingDate: { kind: 'date' },
      SDDocumentReason: code(3),
      CustomerPaymentTerms: code(4),
      ShippingCondition: code(2),
      IncotermsClassification: code(3),
      TotalNetAmount: computed({ kind: 'amount' }),
      TransactionCurrency: code(5),
      DeliveryBlockReason: code(2),
      HeaderBillingBlockReason: code(2),
      OverallSDProcessStatus: computed(code(1)),
      OverallTotalDeliveryStatus: computed(code(1)),
      OverallDeliveryStatus: computed(code(1)),
      OverallOrdReltdBillgStatus: computed(code(1)),
      OverallSDDocumentRejectionSts: computed(code(1)),
      TotalCreditCheckStatus: computed(code(1)),
    },
    navigations: { to_Item: { target: 'A_SalesOrderItem', many: true, join: { SalesOrder: 'SalesOrder' } } },
  },
  {
    service: 'API_SALES_ORDER_SRV',
    name: 'A_SalesOrderItem',
    type: 'A_SalesOrderItemType',
    keys: ['SalesOrder', 'SalesOrderItem'],
    properties: {
      SalesOrder: computed(code(10, { alpha: true })),
      SalesOrderItem: text(6, { alpha: true }),
      SalesOrderItemCategory: code(4),
      SalesOrderItemText: text(40),
      Material: code(40),
      RequestedQuantity: { kind: 'quantity' },
      RequestedQuantityUnit: text(3),
      TransactionCurrency: computed(code(5)),
      NetAmount: computed({ kind: 'amount' }),
      TaxAmount: { kind: 'amount' },
      SalesDocumentRjcnReason: code(2),
      SDProcessStatus: computed(code(1)),
      DeliveryStatus: computed(code(1)),
      OrderRelatedBillingStatus: computed(code(1)),
    },
    navigations: {
      to_PricingElement: { target: 'A_SalesOrderItemPrElement', many: true, join: { SalesOrder: 'SalesOrder', SalesOrderItem: 'SalesOrderItem' } },
      to_SalesOrder: { target: 'A_SalesOrder', many: false, join: { SalesOrder: 'SalesOrder' } },
    },
  },
  {
    service: 'API_SALES_ORDER_SRV',
    name: 'A_SalesOrderItemPrElement',
    type: 'A_SalesOrderItemPrElementType',
    keys: ['SalesOrder', 'SalesOrderItem', 'PricingProcedureStep', 'PricingProcedureCounter'],
    properties: {
      SalesOrder: computed(code(10, { alpha: true })),
      SalesOrderItem: computed(text(6, { alpha: true })),
      PricingProcedureStep: text(3),
      PricingProcedureCounter: text(3),
      ConditionType: code(4),
      ConditionRateValue: { kind: 'rate' },
      ConditionCurrency: code(5),
      ConditionCategory: computed(text(1)),
      ConditionIsForStatistics: computed({ kind: 'boolean' }),
      ConditionAmount: computed({ kind: 'amount' }),
      TransactionCurrency: code(5),
      ConditionInactiveReason: computed(code(1)),
    },
    navigations: {},
  },
];

const BY_SERVICE_AND_NAME = new Map(SETS.map((set) => [`${set.service}/${set.name}`, set]));

/** The entity set `name` of `service`, if the sandbox serves it. */
export function entitySet(service: string, name: string): EntitySetDefinition | undefined {
  return BY_SERVICE_AND_NAME.get(`${service}/${name}`);
}

/** The entity set `name` (sets are unique across the two services). */
export function mustEntitySet(name: string): EntitySetDefinition {
  const found = SETS.find((set) => set.name === name);
  if (found === undefined) throw new Error(`no entity set ${name}`);
  return found;
}

/** Entity set names of a service (its service document). */
export function entitySetNames(service: string): string[] {
  return SETS.filter((set) => set.service === service).map((set) => set.name);
}

/** The services the sandbox serves. */
export const SERVICES = ['API_SALES_ORDER_SRV', 'API_BUSINESS_PARTNER'] as const;

/** ALPHA conversion input: an all-digit value loses its leading zeros (how the sandbox stores it). */
export function alphaInput(value: string): string {
  return /^\d+$/.test(value) ? value.replace(/^0+(?=\d)/, '') : value;
}

/** The store key of a row: its key properties, `/`-joined. */
export function keyOf(set: EntitySetDefinition, row: Readonly<Record<string, unknown>>): string {
  return set.keys.map((name) => String(row[name] ?? '')).join('/');
}
