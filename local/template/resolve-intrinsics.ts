/**
 * Resolves CloudFormation intrinsic functions in a synthesized template to the
 * values the local hub uses, with one deterministic naming scheme, so what
 * `cdk synth` wrote (state machine definitions, environment variables, event
 * source mappings) becomes plain values on a laptop.
 *
 * Naming scheme (P = partition, R = region, A = account id):
 *
 * - A resource's *name* is its explicit name property when the template sets one
 *   (`FunctionName`, `QueueName`, `TableName`, `Name`, …), else its logical id.
 * - `Ref` and `Fn::GetAtt` then give what AWS documents for the type, built from that name:
 *
 * | type | Ref | attributes |
 * | --- | --- | --- |
 * | AWS::Lambda::Function | name | Arn `arn:P:lambda:R:A:function:<name>` |
 * | AWS::SQS::Queue | URL `<sqsEndpoint>/A/<name>` | Arn `arn:P:sqs:R:A:<name>`, QueueName, QueueUrl |
 * | AWS::DynamoDB::Table | name | Arn `arn:P:dynamodb:R:A:table/<name>`, StreamArn `…/stream/local` |
 * | AWS::Events::EventBus | name | Arn `arn:P:events:R:A:event-bus/<name>`, Name |
 * | AWS::Events::Rule | name | Arn `arn:P:events:R:A:rule/[<bus>/]<name>` |
 * | AWS::StepFunctions::StateMachine | Arn | Arn `arn:P:states:R:A:stateMachine:<name>`, Name |
 * | AWS::Logs::LogGroup | name | Arn `arn:P:logs:R:A:log-group:<name>:*` |
 * | AWS::SNS::Topic | Arn | TopicArn `arn:P:sns:R:A:<name>`, TopicName |
 * | AWS::SecretsManager::Secret | Arn `arn:P:secretsmanager:R:A:secret:<name>` | Id |
 * | AWS::KMS::Key | key id (the name) | Arn `arn:P:kms:R:A:key/<name>`, KeyId |
 * | AWS::IAM::Role | name | Arn `arn:P:iam::A:role/<name>`, RoleId |
 * | AWS::S3::Bucket | name (lower case) | Arn `arn:P:s3:::<name>`, DomainName, RegionalDomainName |
 * | anything else | name | Arn `arn:P:<service>:R:A:<resource type in lower case>/<name>` |
 *
 * Other attributes throw, naming the resource, so a gap shows where it is met.
 */
import type { CloudFormationTemplate, TemplateResource } from './load-template.ts';

/** Where the local hub pretends to run. */
export interface LocalAwsEnvironment {
  /** e.g. `us-east-1`. */
  readonly region: string;
  /** Twelve digits, e.g. `000000000000`. */
  readonly accountId: string;
  /** @default 'aws' */
  readonly partition?: string;
  /** @default 'amazonaws.com' */
  readonly urlSuffix?: string;
  /** `AWS::StackName`. @default 'harmony-local' */
  readonly stackName?: string;
  /** Base of queue URLs (`Ref` of a queue). @default `https://sqs.<region>.<urlSuffix>` */
  readonly sqsEndpoint?: string;
  /** Values of template parameters; a parameter not given here takes its `Default`. */
  readonly parameters?: Readonly<Record<string, string>>;
}

/** Marks a value `AWS::NoValue` resolved to, removed from the enclosing object or array. */
const NO_VALUE: unique symbol = Symbol('AWS::NoValue');

const NAME_PROPERTY: Readonly<Record<string, string>> = {
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::SQS::Queue': 'QueueName',
  'AWS::DynamoDB::Table': 'TableName',
  'AWS::DynamoDB::GlobalTable': 'TableName',
  'AWS::Events::EventBus': 'Name',
  'AWS::Events::Rule': 'Name',
  'AWS::StepFunctions::StateMachine': 'StateMachineName',
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::SNS::Topic': 'TopicName',
  'AWS::SecretsManager::Secret': 'Name',
  'AWS::IAM::Role': 'RoleName',
  'AWS::S3::Bucket': 'BucketName',
  'AWS::KMS::Alias': 'AliasName',
};

/** True for `{ "Ref": … }` and `{ "Fn::…": … }`: an object with one key naming an intrinsic. */
function intrinsicOf(value: unknown): [name: string, argument: unknown] | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 1) return undefined;
  const key = keys[0] as string;
  if (key !== 'Ref' && !key.startsWith('Fn::')) return undefined;
  return [key, (value as Record<string, unknown>)[key]];
}

/**
 * Resolves intrinsic functions of one template for one local environment.
 * Resolution is lazy (only what is asked for) and deterministic.
 */
export class TemplateResolver {
  readonly template: CloudFormationTemplate;
  readonly region: string;
  readonly accountId: string;
  readonly partition: string;
  readonly urlSuffix: string;
  readonly stackName: string;
  readonly sqsEndpoint: string;
  readonly #parameters: Readonly<Record<string, string>>;
  readonly #naming = new Set<string>();
  readonly #names = new Map<string, string>();
  #reverse: Map<string, string> | undefined;

  constructor(template: CloudFormationTemplate, environment: LocalAwsEnvironment) {
    if (!/^\d{12}$/.test(environment.accountId)) {
      throw new Error(`accountId "${environment.accountId}": expected twelve digits`);
    }
    if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(environment.region)) {
      throw new Error(`region "${environment.region}": expected a region name such as us-east-1`);
    }
    this.template = template;
    this.region = environment.region;
    this.accountId = environment.accountId;
    this.partition = environment.partition ?? 'aws';
    this.urlSuffix = environment.urlSuffix ?? 'amazonaws.com';
    this.stackName = environment.stackName ?? 'harmony-local';
    this.sqsEndpoint = (environment.sqsEndpoint ?? `https://sqs.${this.region}.${this.urlSuffix}`).replace(/\/+$/, '');
    this.#parameters = environment.parameters ?? {};
  }

  /** Returns `value` with every intrinsic function replaced by its local value. */
  resolve(value: unknown): unknown {
    const resolved = this.#resolve(value, 'value');
    return resolved === NO_VALUE ? undefined : resolved;
  }

  /** Resolves `value` and insists on a string; `where` names it in the error. */
  resolveString(value: unknown, where = 'value'): string {
    const resolved = this.resolve(value);
    if (typeof resolved !== 'string') throw new Error(`${where}: expected a string, got ${JSON.stringify(resolved)}`);
    return resolved;
  }

  /** The resource `logicalId`, or an error naming what the template holds. */
  resource(logicalId: string): TemplateResource {
    const resource = this.template.Resources[logicalId];
    if (resource === undefined) throw new Error(`template has no resource ${logicalId}`);
    return resource;
  }

  /** The local name of a resource: its explicit name property, else its logical id. */
  physicalName(logicalId: string): string {
    const cached = this.#names.get(logicalId);
    if (cached !== undefined) return cached;
    const resource = this.resource(logicalId);
    if (this.#naming.has(logicalId)) throw new Error(`${logicalId}: its name depends on itself`);
    this.#naming.add(logicalId);
    try {
      const property = NAME_PROPERTY[resource.Type];
      const explicit = property === undefined ? undefined : resource.Properties?.[property];
      let name = explicit === undefined ? logicalId : this.resolveString(explicit, `${logicalId}.${property}`);
      if (resource.Type === 'AWS::S3::Bucket' && explicit === undefined) name = logicalId.toLowerCase();
      this.#names.set(logicalId, name);
      return name;
    } finally {
      this.#naming.delete(logicalId);
    }
  }

  /** `Ref` of a resource, parameter or pseudo parameter. */
  ref(name: string): unknown {
    switch (name) {
      case 'AWS::Region':
        return this.region;
      case 'AWS::AccountId':
        return this.accountId;
      case 'AWS::Partition':
        return this.partition;
      case 'AWS::URLSuffix':
        return this.urlSuffix;
      case 'AWS::StackName':
        return this.stackName;
      case 'AWS::StackId':
        return `arn:${this.partition}:cloudformation:${this.region}:${this.accountId}:stack/${this.stackName}/00000000-0000-0000-0000-000000000000`;
      case 'AWS::NotificationARNs':
        return [];
      case 'AWS::NoValue':
        return NO_VALUE;
    }
    const parameter = this.template.Parameters?.[name];
    if (parameter !== undefined) {
      const given = this.#parameters[name] ?? parameter.Default;
      if (given === undefined) throw new Error(`parameter ${name}: no value given and no Default`);
      return given;
    }
    const resource = this.template.Resources[name];
    if (resource === undefined) throw new Error(`Ref ${name}: no such resource, parameter or pseudo parameter`);
    const resourceName = this.physicalName(name);
    switch (resource.Type) {
      case 'AWS::SQS::Queue':
        return this.#queueUrl(resourceName);
      case 'AWS::StepFunctions::StateMachine':
      case 'AWS::SNS::Topic':
      case 'AWS::SecretsManager::Secret':
        return this.getAtt(name, resource.Type === 'AWS::SNS::Topic' ? 'TopicArn' : 'Arn');
      default:
        return resourceName;
    }
  }

  /** `Fn::GetAtt` of a resource. */
  getAtt(logicalId: string, attribute: string): string {
    const resource = this.resource(logicalId);
    const name = this.physicalName(logicalId);
    const { partition: p, region: r, accountId: a } = this;
    const unsupported = (): never => {
      throw new Error(`${logicalId}.${attribute}: attribute of ${resource.Type} not supported locally`);
    };
    switch (resource.Type) {
      case 'AWS::Lambda::Function':
        return attribute === 'Arn' ? `arn:${p}:lambda:${r}:${a}:function:${name}` : unsupported();
      case 'AWS::SQS::Queue':
        if (attribute === 'Arn') return `arn:${p}:sqs:${r}:${a}:${name}`;
        if (attribute === 'QueueName') return name;
        if (attribute === 'QueueUrl') return this.#queueUrl(name);
        return unsupported();
      case 'AWS::DynamoDB::Table':
      case 'AWS::DynamoDB::GlobalTable':
        if (attribute === 'Arn') return `arn:${p}:dynamodb:${r}:${a}:table/${name}`;
        if (attribute === 'StreamArn') return `arn:${p}:dynamodb:${r}:${a}:table/${name}/stream/local`;
        return unsupported();
      case 'AWS::Events::EventBus':
        if (attribute === 'Arn') return `arn:${p}:events:${r}:${a}:event-bus/${name}`;
        if (attribute === 'Name') return name;
        return unsupported();
      case 'AWS::Events::Rule': {
        if (attribute !== 'Arn') return unsupported();
        const bus = resource.Properties?.EventBusName;
        const busName = bus === undefined ? 'default' : this.resolveString(bus, `${logicalId}.EventBusName`);
        return busName === 'default'
          ? `arn:${p}:events:${r}:${a}:rule/${name}`
          : `arn:${p}:events:${r}:${a}:rule/${busName.split('/').pop()}/${name}`;
      }
      case 'AWS::StepFunctions::StateMachine':
        if (attribute === 'Arn') return `arn:${p}:states:${r}:${a}:stateMachine:${name}`;
        if (attribute === 'Name') return name;
        return unsupported();
      case 'AWS::Logs::LogGroup':
        return attribute === 'Arn' ? `arn:${p}:logs:${r}:${a}:log-group:${name}:*` : unsupported();
      case 'AWS::SNS::Topic':
        if (attribute === 'TopicArn') return `arn:${p}:sns:${r}:${a}:${name}`;
        if (attribute === 'TopicName') return name;
        return unsupported();
      case 'AWS::SecretsManager::Secret':
        return attribute === 'Arn' || attribute === 'Id' ? `arn:${p}:secretsmanager:${r}:${a}:secret:${name}` : unsupported();
      case 'AWS::KMS::Key':
        if (attribute === 'Arn') return `arn:${p}:kms:${r}:${a}:key/${name}`;
        if (attribute === 'KeyId') return name;
        return unsupported();
      case 'AWS::IAM::Role':
        if (attribute === 'Arn') return `arn:${p}:iam::${a}:role/${name}`;
        if (attribute === 'RoleId') return `AROA${logicalId.toUpperCase()}`.slice(0, 21);
        return unsupported();
      case 'AWS::S3::Bucket':
        if (attribute === 'Arn') return `arn:${p}:s3:::${name}`;
        if (attribute === 'DomainName') return `${name}.s3.${this.urlSuffix}`;
        if (attribute === 'RegionalDomainName') return `${name}.s3.${r}.${this.urlSuffix}`;
        return unsupported();
      default: {
        if (attribute !== 'Arn') return unsupported();
        const [, service = 'unknown', type = 'resource'] = resource.Type.split('::');
        return `arn:${p}:${service.toLowerCase()}:${r}:${a}:${type.toLowerCase()}/${name}`;
      }
    }
  }

  /**
   * The logical id of the resource whose Ref or main identifier (ARN, URL, name) is `value`,
   * e.g. a state machine Task's `Resource`. A Lambda ARN may carry a version or alias.
   */
  logicalIdOf(value: string): string | undefined {
    if (this.#reverse === undefined) {
      const reverse = new Map<string, string>();
      for (const logicalId of Object.keys(this.template.Resources)) {
        const identifiers: unknown[] = [];
        const attempt = (read: () => unknown): void => {
          try {
            identifiers.push(read());
          } catch {
            // A resource whose identifiers cannot be resolved locally is not a target.
          }
        };
        attempt(() => this.ref(logicalId));
        for (const attribute of ['Arn', 'QueueUrl', 'TopicArn']) attempt(() => this.getAtt(logicalId, attribute));
        for (const identifier of identifiers) {
          if (typeof identifier === 'string' && !reverse.has(identifier)) reverse.set(identifier, logicalId);
        }
      }
      this.#reverse = reverse;
    }
    const exact = this.#reverse.get(value);
    if (exact !== undefined) return exact;
    const qualified = /^(arn:[^:]+:lambda:[^:]+:\d+:function:[^:]+):[^:]+$/.exec(value);
    return qualified?.[1] === undefined ? undefined : this.#reverse.get(qualified[1]);
  }

  #queueUrl(name: string): string {
    return `${this.sqsEndpoint}/${this.accountId}/${name}`;
  }

  #resolve(value: unknown, where: string): unknown {
    if (Array.isArray(value)) {
      return value.map((item, index) => this.#resolve(item, `${where}[${index}]`)).filter((item) => item !== NO_VALUE);
    }
    if (typeof value !== 'object' || value === null) return value;
    const intrinsic = intrinsicOf(value);
    if (intrinsic !== undefined) return this.#call(intrinsic[0], intrinsic[1], where);
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const resolved = this.#resolve(item, `${where}.${key}`);
      if (resolved !== NO_VALUE) out[key] = resolved;
    }
    return out;
  }

  #call(name: string, argument: unknown, where: string): unknown {
    const at = `${where}: ${name}`;
    switch (name) {
      case 'Ref':
        if (typeof argument !== 'string') throw new Error(`${at} expects a name`);
        return this.ref(argument);
      case 'Fn::GetAtt': {
        const parts = typeof argument === 'string' ? splitOnce(argument, '.') : argument;
        if (!Array.isArray(parts) || parts.length !== 2) throw new Error(`${at} expects [logicalId, attribute]`);
        const [logicalId, attribute] = parts.map((part) => this.#resolve(part, where));
        if (typeof logicalId !== 'string' || typeof attribute !== 'string') throw new Error(`${at} expects strings`);
        return this.getAtt(logicalId, attribute);
      }
      case 'Fn::Join': {
        if (!Array.isArray(argument) || argument.length !== 2) throw new Error(`${at} expects [delimiter, list]`);
        const delimiter = argument[0];
        const list = this.#resolve(argument[1], where);
        if (typeof delimiter !== 'string' || !Array.isArray(list)) throw new Error(`${at} expects [delimiter, list]`);
        return list.map((item) => scalarString(item, at)).join(delimiter);
      }
      case 'Fn::Sub':
        return this.#sub(argument, at);
      case 'Fn::Select': {
        if (!Array.isArray(argument) || argument.length !== 2) throw new Error(`${at} expects [index, list]`);
        const index = Number(this.#resolve(argument[0], where));
        const list = this.#resolve(argument[1], where);
        if (!Array.isArray(list) || !Number.isInteger(index) || index < 0 || index >= list.length) {
          throw new Error(`${at} index ${index} is outside the list ${JSON.stringify(list)}`);
        }
        return list[index];
      }
      case 'Fn::Split': {
        if (!Array.isArray(argument) || argument.length !== 2) throw new Error(`${at} expects [delimiter, string]`);
        const delimiter = argument[0];
        const text = this.#resolve(argument[1], where);
        if (typeof delimiter !== 'string' || typeof text !== 'string') throw new Error(`${at} expects [delimiter, string]`);
        return text.split(delimiter);
      }
      case 'Fn::Base64':
        return Buffer.from(scalarString(this.#resolve(argument, where), at)).toString('base64');
      case 'Fn::GetAZs':
        return ['a', 'b', 'c'].map((zone) => `${this.region}${zone}`);
      case 'Fn::FindInMap': {
        if (!Array.isArray(argument) || argument.length < 3) throw new Error(`${at} expects [map, key, key]`);
        const [map, top, second] = argument.slice(0, 3).map((part) => scalarString(this.#resolve(part, where), at));
        const found = this.template.Mappings?.[map ?? '']?.[top ?? '']?.[second ?? ''];
        if (found === undefined) throw new Error(`${at} finds nothing at ${map}.${top}.${second}`);
        return this.#resolve(found, where);
      }
      case 'Fn::If': {
        if (!Array.isArray(argument) || argument.length !== 3 || typeof argument[0] !== 'string') {
          throw new Error(`${at} expects [condition, then, else]`);
        }
        return this.#resolve(this.#condition(argument[0]) ? argument[1] : argument[2], where);
      }
      case 'Fn::Equals':
      case 'Fn::Not':
      case 'Fn::And':
      case 'Fn::Or':
        return this.#evaluate({ [name]: argument }, where);
      default:
        throw new Error(`${at} is not supported locally`);
    }
  }

  #condition(name: string): boolean {
    const definition = this.template.Conditions?.[name];
    if (definition === undefined) throw new Error(`condition ${name}: not in the template`);
    return this.#evaluate(definition, `condition ${name}`);
  }

  #evaluate(expression: unknown, where: string): boolean {
    if (typeof expression === 'object' && expression !== null && !Array.isArray(expression)) {
      const entries = Object.entries(expression);
      const [name, argument] = entries[0] ?? [];
      if (entries.length === 1 && name === 'Condition' && typeof argument === 'string') return this.#condition(argument);
      if (entries.length === 1 && Array.isArray(argument)) {
        switch (name) {
          case 'Fn::Equals': {
            const [left, right] = argument.map((item) => this.#resolve(item, where));
            return JSON.stringify(left) === JSON.stringify(right);
          }
          case 'Fn::Not':
            return !this.#evaluate(argument[0], where);
          case 'Fn::And':
            return argument.every((item) => this.#evaluate(item, where));
          case 'Fn::Or':
            return argument.some((item) => this.#evaluate(item, where));
        }
      }
    }
    throw new Error(`${where}: not a condition expression: ${JSON.stringify(expression)}`);
  }

  #sub(argument: unknown, at: string): string {
    let text: unknown = argument;
    let variables: Record<string, unknown> = {};
    if (Array.isArray(argument)) {
      if (argument.length !== 2) throw new Error(`${at} expects a string or [string, variables]`);
      text = argument[0];
      const given = this.#resolve(argument[1], at);
      if (typeof given !== 'object' || given === null || Array.isArray(given)) throw new Error(`${at} variables must be an object`);
      variables = given as Record<string, unknown>;
    }
    if (typeof text !== 'string') throw new Error(`${at} expects a string`);
    return text.replace(/\$\{(!?)([^}]*)\}/g, (_match, literal: string, expression: string) => {
      if (literal === '!') return `\${${expression}}`;
      const name = expression.trim();
      if (Object.hasOwn(variables, name)) return scalarString(variables[name], at);
      if (name.includes('.') && !name.startsWith('AWS::')) {
        const [logicalId, attribute] = splitOnce(name, '.');
        return this.getAtt(logicalId, attribute);
      }
      return scalarString(this.ref(name), at);
    });
  }
}

function splitOnce(text: string, separator: string): [string, string] {
  const index = text.indexOf(separator);
  if (index < 0) return [text, ''];
  return [text.slice(0, index), text.slice(index + separator.length)];
}

function scalarString(value: unknown, at: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new Error(`${at}: expected a string, got ${JSON.stringify(value)}`);
}
