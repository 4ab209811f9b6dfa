/**
 * Which SOAP Faults mean "try again". Most Faults are business rejections that fail
 * the same way every time (PermanentError, so the saga compensates); a few say the
 * server was busy, timed out or lost a deadlock (RetryableError, so the saga retries).
 * Vendors word these differently, so an adapter can put its own classifier first.
 */
import type { SoapFault } from './envelope.ts';

/** The family a Fault belongs to, and the error code to give it. */
export interface FaultVerdict {
  readonly retry: boolean;
  /** The error's `code`; @default the fault code's local part, e.g. `Server` or `NavCSideException`. */
  readonly code?: string;
}

/** An adapter's view of a vendor's Faults; undefined leaves the Fault to the default classifier. */
export type FaultClassifier = (fault: SoapFault) => FaultVerdict | undefined;

/** Words servers use for transient trouble (busy, timeouts, deadlocks, throttling). */
const TRANSIENT_WORDING = /server (?:is )?(?:too )?busy|\bbusy\b|timed? ?out|time-out|deadlock|try again|please retry|temporarily unavailable|service unavailable|throttl/i;

/** The default verdict: retry when the Fault's code, reason or detail reads as transient; otherwise permanent. */
export function defaultFaultVerdict(fault: SoapFault): FaultVerdict {
  const text = [fault.code, ...fault.subcodes, fault.reason, fault.detail].join(' ');
  return { retry: TRANSIENT_WORDING.test(text), code: localPart(fault.code) };
}

/** `a:Microsoft.Dynamics.Nav.Types.Exceptions.NavCSideException` → `Microsoft.Dynamics.Nav.Types.Exceptions.NavCSideException`. */
export function localPart(qualifiedName: string): string {
  const colon = qualifiedName.indexOf(':');
  return colon < 0 ? qualifiedName : qualifiedName.slice(colon + 1);
}
