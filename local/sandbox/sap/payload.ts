/**
 * Reads one entity of a POST or PATCH body as Gateway does: known properties converted
 * (decimals from strings, `/Date(ms)/`, upper case and ALPHA where the type says so,
 * lengths checked), properties SAP computes ignored, unknown names refused, and the
 * navigation properties of a deep insert handed back — to-many as an array or
 * `{"results":[…]}`, to-one as an object.
 */
import { alphaInput, type EntitySetDefinition } from './entity-model.ts';
import type { Row } from './store.ts';

/** A body SAP would refuse with 400; `code` goes into the error body. */
export class PayloadError extends Error {
  override readonly name = 'PayloadError';
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

/** The entity's own properties and the bodies under its navigation properties. */
export interface ReadEntity {
  readonly values: Row;
  readonly children: Readonly<Record<string, readonly Record<string, unknown>[]>>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads `body` as an entity of `set`. */
export function readEntity(set: EntitySetDefinition, body: unknown): ReadEntity {
  if (!isRecord(body)) throw new PayloadError('/IWBEP/CX_MGW_TECH_EXCEPTION', `Malformed payload: expected an object for ${set.type}`);
  const values: Row = {};
  const children: Record<string, Record<string, unknown>[]> = {};
  for (const [name, raw] of Object.entries(body)) {
    if (name === '__metadata') continue;
    const navigation = set.navigations[name];
    if (navigation !== undefined) {
      const list = Array.isArray(raw) ? raw : isRecord(raw) && Array.isArray(raw.results) ? raw.results : isRecord(raw) && !navigation.many ? [raw] : undefined;
      if (list === undefined || !list.every(isRecord)) throw new PayloadError('/IWBEP/CX_MGW_TECH_EXCEPTION', `Malformed payload: ${name} of ${set.type} must be ${navigation.many ? 'an array of entities' : 'an entity'}`);
      children[name] = list;
      continue;
    }
    const definition = set.properties[name];
    if (definition === undefined) throw new PayloadError('/IWBEP/CX_MGW_TECH_EXCEPTION', `Property '${name}' is invalid`);
    if (definition.computed === true) continue;
    values[name] = convert(set, name, raw);
  }
  return { values, children };
}

function convert(set: EntitySetDefinition, name: string, raw: unknown): Row[string] {
  const definition = set.properties[name]!;
  const invalid = (): never => {
    throw new PayloadError('/IWBEP/CX_MGW_TECH_EXCEPTION', `Invalid value ${JSON.stringify(raw)} for property '${name}' of ${set.type}`);
  };
  if (raw === null) return null;
  switch (definition.kind) {
    case 'amount':
    case 'quantity':
    case 'rate': {
      const text = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : invalid();
      if (!/^-?\d+(\.\d+)?$/.test(text)) invalid();
      return Number(text);
    }
    case 'boolean':
      return typeof raw === 'boolean' ? raw : invalid();
    case 'date':
    case 'timestamp': {
      const match = typeof raw === 'string' ? /^\/Date\((-?\d+)([+-]\d{4})?\)\/$/.exec(raw) : null;
      return match === null ? invalid() : Number(match[1]);
    }
    default: {
      if (typeof raw !== 'string') return invalid();
      let value = definition.upper === true ? raw.toUpperCase() : raw;
      if (definition.alpha === true) value = alphaInput(value);
      if (definition.maxLength !== undefined && value.length > definition.maxLength) {
        throw new PayloadError('/IWBEP/CX_MGW_TECH_EXCEPTION', `Value '${raw}' of property '${name}' is too long (at most ${definition.maxLength} characters)`);
      }
      return value;
    }
  }
}
