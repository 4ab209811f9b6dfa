/**
 * The errors a NAV server raises, written as the SOAP 1.1 Faults its web services send
 * (HTTP 500): `faultcode` is the .NET exception type in the
 * `urn:microsoft-dynamics-schemas/error` namespace, `faultstring` the message, and
 * `detail` the message again as a serialized string. Messages follow NAV's own wording
 * (Microsoft Learn "Troubleshooting OData/API calls" error table, the page operation
 * reference); where Microsoft does not document the exception type, SOURCES.md says so.
 */
import { writeFault } from '../../../functions/connectors/soap/envelope.ts';

const NAV_EXCEPTIONS = 'Microsoft.Dynamics.Nav.Types.Exceptions';

/** An error the sandbox answers as a NAV Fault. */
export class NavError extends Error {
  override readonly name = 'NavError';
  /** The .NET exception type, e.g. `Microsoft.Dynamics.Nav.Types.Exceptions.NavCSideRecordNotFoundException`. */
  readonly exception: string;
  /** HTTP status of the answer. @default 500 */
  readonly status: number;
  constructor(exception: string, message: string, status = 500) {
    super(message);
    this.exception = exception;
    this.status = status;
  }
}

/** `The Customer does not exist. Identification fields and values: No.='C00010'`. */
export function recordNotFound(table: string, identification: string): NavError {
  return new NavError(`${NAV_EXCEPTIONS}.NavCSideRecordNotFoundException`, `The ${table} does not exist. Identification fields and values: ${identification}`);
}

/** A value that is not in the related table (Item, Customer, Currency, Country/Region). */
export function tableRelation(field: string, table: string, value: string, related: string): NavError {
  return new NavError(
    `${NAV_EXCEPTIONS}.NavCSideValidateTableRelationException`,
    `The field ${field} of table ${table} contains a value (${value}) that cannot be found in the related table (${related}).`,
  );
}

/** A Code or Text value longer than its field. */
export function stringTooLong(value: string, maximum: number): NavError {
  return new NavError(
    `${NAV_EXCEPTIONS}.NavNCLStringLengthExceededException`,
    `The length of the string is ${value.length}, but it must be less than or equal to ${maximum} characters. Value: ${value}`,
  );
}

/** An error the application code raises (ERROR, TESTFIELD's dialog form). */
export function dialog(message: string): NavError {
  return new NavError(`${NAV_EXCEPTIONS}.NavNCLDialogException`, message);
}

/** TESTFIELD: a field that must have a value, or a particular one. */
export function testField(message: string): NavError {
  return new NavError(`${NAV_EXCEPTIONS}.NavTestFieldException`, message);
}

/** A filter expression the sandbox cannot read. */
export function invalidFilter(criteria: string, field: string, table: string, reason: string): NavError {
  return new NavError(`${NAV_EXCEPTIONS}.NavFilterException`, `The filter "${criteria}" is not valid for the ${field} field on the ${table} table. ${reason}`);
}

/** The record changed since the caller read its Key (Update and Delete). */
export function anotherUserModified(table: string, identification: string): NavError {
  return new NavError(
    `${NAV_EXCEPTIONS}.NavCSideException`,
    `Another user has modified the record for this ${table} after you retrieved it from the database. Enter your changes again in the updated window, or start the interrupted activity again. Identification fields and values: ${identification}`,
  );
}

/** A lock wait that timed out: the Fault the `500` fault kind sends. */
export function lockTimeout(table: string): NavError {
  return new NavError(
    `${NAV_EXCEPTIONS}.NavCSideException`,
    `The operation could not complete because a record in the ${table} table was locked by another user. Please retry the activity.`,
  );
}

/** A request the service cannot bind (unknown element, enum value, missing parameter, malformed value). */
export function badRequest(message: string): NavError {
  return new NavError('Microsoft.Dynamics.Nav.Service.WebServices.ServiceBrokerException', message);
}

/** The Fault envelope of an error. */
export function navFaultEnvelope(error: NavError): string {
  return writeFault('1.1', {
    code: `a:${error.exception}`,
    codeNamespaces: { a: 'urn:microsoft-dynamics-schemas/error' },
    reason: error.message,
    detail: { name: 'string', namespace: 'http://schemas.microsoft.com/2003/10/Serialization/', content: error.message },
  });
}
