/**
 * SQS's query protocol (form-encoded `Action=SendMessage&…`, XML answers), which the
 * AWS CLI before botocore 1.31 and AWS SDKs older than SQS's JSON protocol (late 2023)
 * speak, translated to the JSON protocol fauxqs serves: the form becomes the JSON
 * input, fauxqs's JSON answer becomes the XML SQS gives, errors included (their query
 * code comes from fauxqs's `x-amzn-query-error`, as SQS's own compatibility layer does).
 *
 * Shapes follow the SQS API reference's query examples: flattened lists
 * (`AttributeName.1`), maps as `Attribute.N.Name/Value`, batch entries as
 * `<Action>RequestEntry.N.*` in and `<Action>ResultEntry` out.
 */
import { randomUUID } from 'node:crypto';

const XML_NAMESPACE = 'http://queue.amazonaws.com/doc/2012-11-05/';

/** Actions SQS serves over the query protocol. */
export const SQS_QUERY_ACTIONS: ReadonlySet<string> = new Set([
  'AddPermission',
  'ChangeMessageVisibility',
  'ChangeMessageVisibilityBatch',
  'CreateQueue',
  'DeleteMessage',
  'DeleteMessageBatch',
  'DeleteQueue',
  'GetQueueAttributes',
  'GetQueueUrl',
  'ListDeadLetterSourceQueues',
  'ListQueues',
  'ListQueueTags',
  'PurgeQueue',
  'ReceiveMessage',
  'RemovePermission',
  'SendMessage',
  'SendMessageBatch',
  'SetQueueAttributes',
  'TagQueue',
  'UntagQueue',
]);

/** Actions whose answer has no `<Action>Result>` element. */
const NO_RESULT = new Set([
  'AddPermission',
  'ChangeMessageVisibility',
  'DeleteMessage',
  'DeleteQueue',
  'PurgeQueue',
  'RemovePermission',
  'SetQueueAttributes',
  'TagQueue',
  'UntagQueue',
]);

/** Query maps (`Name.N.Key/Value`) → JSON member, with the names of key and value. */
const MAPS: Readonly<Record<string, { readonly member: string; readonly key: string; readonly value: string }>> = {
  Attribute: { member: 'Attributes', key: 'Name', value: 'Value' },
  MessageAttribute: { member: 'MessageAttributes', key: 'Name', value: 'Value' },
  MessageSystemAttribute: { member: 'MessageSystemAttributes', key: 'Name', value: 'Value' },
  Tag: { member: 'Tags', key: 'Key', value: 'Value' },
};

/** Flattened query lists → JSON member. */
const LISTS: Readonly<Record<string, string>> = {
  AttributeName: 'AttributeNames',
  MessageAttributeName: 'MessageAttributeNames',
  MessageSystemAttributeName: 'MessageSystemAttributeNames',
  TagKey: 'TagKeys',
  AWSAccountId: 'AWSAccountIds',
  ActionName: 'Actions',
  StringListValue: 'StringListValues',
  BinaryListValue: 'BinaryListValues',
};

const NUMBERS = new Set(['DelaySeconds', 'MaxNumberOfMessages', 'MaxResults', 'VisibilityTimeout', 'WaitTimeSeconds']);

type Tree = { [key: string]: Tree | string };

/**
 * The JSON input of a query request: `params` without Action/Version. `path` is the
 * request path, which names the queue (`/<account>/<queue>`) when QueueUrl is absent.
 */
export function queryToJsonInput(action: string, params: URLSearchParams, origin: string, path: string): Record<string, unknown> {
  const tree: Tree = {};
  for (const [key, value] of params) {
    if (key === 'Action' || key === 'Version') continue;
    const steps = key.split('.');
    let node = tree;
    steps.forEach((step, index) => {
      if (index === steps.length - 1) {
        node[step] = value;
      } else {
        const next = node[step];
        node = typeof next === 'object' ? next : (node[step] = {});
      }
    });
  }
  const input = convert(tree, action);
  const segments = path.split('?')[0]?.split('/').filter(Boolean) ?? [];
  if (input.QueueUrl === undefined && segments.length === 2 && action !== 'ListQueues' && action !== 'CreateQueue' && action !== 'GetQueueUrl') {
    input.QueueUrl = `${origin}/${segments.join('/')}`;
  }
  // CreateQueue takes its tags as `tags` in the JSON protocol.
  if (action === 'CreateQueue' && input.Tags !== undefined) {
    input.tags = input.Tags;
    delete input.Tags;
  }
  return input;
}

function convert(tree: Tree, action: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(tree)) {
    const map = MAPS[key];
    if (map !== undefined && typeof value === 'object') {
      const entries: Record<string, unknown> = {};
      for (const item of ordered(value)) {
        if (typeof item !== 'object') continue;
        const name = item[map.key];
        const entry = item[map.value];
        if (typeof name !== 'string' || entry === undefined) continue;
        entries[name] = typeof entry === 'object' ? convert(entry, action) : entry;
      }
      out[map.member] = entries;
    } else if (LISTS[key] !== undefined && typeof value === 'object') {
      out[LISTS[key]] = ordered(value).map((item) => (typeof item === 'object' ? convert(item, action) : item));
    } else if (key.endsWith('RequestEntry') && typeof value === 'object') {
      out.Entries = ordered(value).map((item) => (typeof item === 'object' ? convert(item, action) : item));
    } else if (typeof value === 'object') {
      out[key] = convert(value, action);
    } else {
      out[key] = NUMBERS.has(key) && /^-?\d+$/.test(value) ? Number(value) : value;
    }
  }
  return out;
}

/** The members of a `1`, `2`, … keyed node in index order. */
function ordered(node: Tree): (Tree | string)[] {
  return Object.keys(node)
    .filter((key) => /^\d+$/.test(key))
    .sort((a, b) => Number(a) - Number(b))
    .map((key) => node[key] as Tree | string);
}

/** The XML answer SQS gives for `action` with this JSON output. */
export function jsonOutputToXml(action: string, output: Readonly<Record<string, unknown>>): string {
  const result = NO_RESULT.has(action) ? '' : `<${action}Result>${members(action, output)}</${action}Result>`;
  return (
    `<?xml version="1.0"?><${action}Response xmlns="${XML_NAMESPACE}">${result}` +
    `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`
  );
}

/** SQS's XML error, from a JSON error answer and its `x-amzn-query-error` header (`Code;Sender`). */
export function jsonErrorToXml(body: Readonly<Record<string, unknown>>, queryError: string | undefined): string {
  const [queryCode, fault] = (queryError ?? '').split(';');
  const type = typeof body.__type === 'string' ? (body.__type.split('#').at(-1) ?? body.__type) : 'InternalError';
  const message = typeof body.message === 'string' ? body.message : typeof body.Message === 'string' ? body.Message : '';
  return queryErrorXml(queryCode || type, message, fault === 'Receiver' ? 'Receiver' : 'Sender');
}

/** An XML error in the query protocol's shape. */
export function queryErrorXml(code: string, message: string, type: 'Sender' | 'Receiver' = 'Sender'): string {
  return (
    `<?xml version="1.0"?><ErrorResponse xmlns="${XML_NAMESPACE}"><Error><Type>${type}</Type><Code>${escape(code)}</Code>` +
    `<Message>${escape(message)}</Message><Detail/></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`
  );
}

function members(action: string, object: Readonly<Record<string, unknown>>): string {
  let xml = '';
  for (const [key, value] of Object.entries(object)) {
    if (value === undefined || value === null) continue;
    if ((key === 'QueueUrls' || key === 'queueUrls') && Array.isArray(value)) {
      xml += value.map((url) => element('QueueUrl', String(url))).join('');
    } else if (key === 'Messages' && Array.isArray(value)) {
      xml += value.map((message) => `<Message>${members(action, message as Record<string, unknown>)}</Message>`).join('');
    } else if ((key === 'Attributes' || key === 'Tags') && isRecord(value)) {
      const [item, name] = key === 'Attributes' ? ['Attribute', 'Name'] : ['Tag', 'Key'];
      xml += Object.entries(value)
        .map(([entry, text]) => `<${item}>${element(name, entry)}${element('Value', String(text))}</${item}>`)
        .join('');
    } else if (key === 'MessageAttributes' && isRecord(value)) {
      xml += Object.entries(value)
        .map(([name, attribute]) => `<MessageAttribute>${element('Name', name)}<Value>${members(action, attribute as Record<string, unknown>)}</Value></MessageAttribute>`)
        .join('');
    } else if (key === 'Successful' && Array.isArray(value)) {
      xml += value.map((entry) => `<${action}ResultEntry>${members(action, entry as Record<string, unknown>)}</${action}ResultEntry>`).join('');
    } else if (key === 'Failed' && Array.isArray(value)) {
      xml += value.map((entry) => `<BatchResultErrorEntry>${members(action, entry as Record<string, unknown>)}</BatchResultErrorEntry>`).join('');
    } else if (Array.isArray(value)) {
      const name = key.endsWith('s') ? key.slice(0, -1) : key;
      xml += value.map((item) => (isRecord(item) ? `<${name}>${members(action, item)}</${name}>` : element(name, String(item)))).join('');
    } else if (isRecord(value)) {
      xml += `<${key}>${members(action, value)}</${key}>`;
    } else {
      xml += element(key, String(value));
    }
  }
  return xml;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function element(name: string, text: string): string {
  return `<${name}>${escape(text)}</${name}>`;
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
