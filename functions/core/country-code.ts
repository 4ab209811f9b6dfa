/**
 * ISO 3166-1 alpha-2 codes from the free-text country a CRM keeps (HubSpot's and
 * Salesforce's `country` hold "Germany", "DE", "deutschland"…), so an ERP gets a code it
 * accepts or no country at all rather than text it would refuse.
 */

let countryCodesByName: Map<string, string> | undefined;

/**
 * The code for an ISO alpha-2 code (any case, canonical: `UK` → `GB`) or an English
 * country name; undefined for anything else.
 */
export function countryCode(country: string | undefined): string | undefined {
  if (country === undefined) return undefined;
  const key = country.trim().toLowerCase();
  if (/^[a-z]{2}$/.test(key)) return canonicalRegion(key.toUpperCase());
  if (countryCodesByName === undefined) {
    countryCodesByName = new Map();
    const names = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });
    for (let first = 65; first <= 90; first += 1) {
      for (let second = 65; second <= 90; second += 1) {
        const code = String.fromCharCode(first, second);
        const name = names.of(code);
        // Deprecated aliases (UK for GB) share a name with the code they alias; keep the canonical one.
        if (name !== undefined && canonicalRegion(code) === code) countryCodesByName.set(name.toLowerCase(), code);
      }
    }
  }
  return countryCodesByName.get(key);
}

/** The canonical form of a region code (`UK` → `GB`), as Intl knows it. */
function canonicalRegion(code: string): string {
  return Intl.getCanonicalLocales(`und-${code}`)[0]?.slice(4) ?? code;
}
