/**
 * The Python exceptions an Odoo server raises, and how Odoo puts them on the
 * wire: XML-RPC faults on `/xmlrpc/2/*` (`odoo/addons/base/controllers/rpc.py`,
 * `xmlrpc_handle_exception_int`) and the JSON-RPC `error` member on `/jsonrpc`
 * (`odoo/http.py`, `serialize_exception` and the JSON-RPC dispatcher's `handle_error`).
 */

/** Qualified Python class names of the exceptions the sandbox raises. */
export type OdooExceptionName =
  | 'odoo.exceptions.UserError'
  | 'odoo.exceptions.ValidationError'
  | 'odoo.exceptions.MissingError'
  | 'odoo.exceptions.AccessError'
  | 'odoo.exceptions.AccessDenied'
  | 'builtins.ValueError'
  | 'builtins.TypeError'
  | 'builtins.KeyError'
  | 'builtins.AttributeError'
  | 'builtins.NameError'
  | 'builtins.Exception';

/** An exception raised by sandbox "server code", carried to the wire by the protocol layer. */
export class OdooException extends Error {
  override readonly name = 'OdooException';
  /** Python class, e.g. `odoo.exceptions.UserError`. */
  readonly exceptionName: OdooExceptionName;
  constructor(exceptionName: OdooExceptionName, message: string) {
    super(message);
    this.exceptionName = exceptionName;
  }
}

/** `odoo.exceptions.UserError`: a business rule said no. */
export function userError(message: string): OdooException {
  return new OdooException('odoo.exceptions.UserError', message);
}

/** `odoo.exceptions.ValidationError`: a constraint was violated. */
export function validationError(message: string): OdooException {
  return new OdooException('odoo.exceptions.ValidationError', message);
}

/** `odoo.exceptions.MissingError` with Odoo's wording for records that do not exist. */
export function missingError(model: string, ids: readonly number[], uid: number): OdooException {
  return new OdooException(
    'odoo.exceptions.MissingError',
    `Record does not exist or has been deleted.\n(Record: ${model}(${ids.join(', ')},), User: ${uid})`,
  );
}

/** `odoo.exceptions.AccessDenied`: wrong database, user id or password / API key. */
export function accessDenied(): OdooException {
  return new OdooException('odoo.exceptions.AccessDenied', 'Access Denied');
}

/** `builtins.ValueError`, e.g. an unknown field or domain operator. */
export function valueError(message: string): OdooException {
  return new OdooException('builtins.ValueError', message);
}

/** `builtins.TypeError`, e.g. an unexpected keyword argument. */
export function typeError(message: string): OdooException {
  return new OdooException('builtins.TypeError', message);
}

// Fault codes from odoo/addons/base/controllers/rpc.py.
const RPC_FAULT_CODE_APPLICATION_ERROR = 1;
const RPC_FAULT_CODE_WARNING = 2;
const RPC_FAULT_CODE_ACCESS_DENIED = 3;
const RPC_FAULT_CODE_ACCESS_ERROR = 4;

/** UserError and its subclasses (ValidationError, MissingError, AccessError, AccessDenied). */
function isUserError(name: string): boolean {
  return name.startsWith('odoo.exceptions.');
}

/** A Python-looking traceback, as Odoo sends for application errors. */
function traceback(exceptionName: string, message: string): string {
  const shortName = exceptionName.startsWith('builtins.') ? exceptionName.slice('builtins.'.length) : exceptionName;
  return [
    'Traceback (most recent call last):',
    '  File "/opt/odoo/odoo/service/model.py", line 156, in retrying',
    '    result = func()',
    '  File "/opt/odoo/odoo/api.py", line 466, in call_kw',
    '    result = _call_kw_multi(method, model, args, kwargs)',
    `${shortName}: ${message}`,
    '',
  ].join('\n');
}

/** Converts anything thrown while serving a call into an Odoo exception (unexpected errors become `builtins.Exception`). */
export function asOdooException(error: unknown): OdooException {
  if (error instanceof OdooException) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new OdooException('builtins.Exception', message);
}

/** The `faultCode`/`faultString` pair Odoo's `/xmlrpc/2` endpoints send for an exception. */
export function xmlRpcFault(error: OdooException): { faultCode: number; faultString: string } {
  const name = error.exceptionName;
  if (name === 'odoo.exceptions.AccessError') return { faultCode: RPC_FAULT_CODE_ACCESS_ERROR, faultString: error.message };
  if (name === 'odoo.exceptions.AccessDenied') return { faultCode: RPC_FAULT_CODE_ACCESS_DENIED, faultString: error.message };
  if (isUserError(name)) return { faultCode: RPC_FAULT_CODE_WARNING, faultString: error.message };
  return { faultCode: RPC_FAULT_CODE_APPLICATION_ERROR, faultString: traceback(name, error.message) };
}

/** The JSON-RPC `error` member Odoo sends for an exception (JSON-RPC code 200, "Odoo Server Error"). */
export function jsonRpcError(error: OdooException): {
  code: number;
  message: string;
  data: { name: string; debug: string; message: string; arguments: string[]; context: Record<string, never> };
} {
  return {
    code: 200,
    message: 'Odoo Server Error',
    data: {
      name: error.exceptionName,
      debug: traceback(error.exceptionName, error.message),
      message: error.message,
      arguments: [error.message],
      context: {},
    },
  };
}
