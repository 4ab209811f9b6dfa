/**
 * What a rule target receives for one event, as EventBridge builds it: the event
 * itself, or the target's constant `Input`, or the part of the event its `InputPath`
 * selects, or its `InputTransformer` template filled with values the paths select.
 *
 * Transformer semantics (EventBridge user guide, "Amazon EventBridge input transformation"):
 * a `<name>` placeholder inside a JSON string is replaced by the value's text (a string
 * without quotes, anything else as JSON), outside a string by the value as JSON. A
 * template that is not JSON (plain text) gets each value's text. Reserved names:
 * `aws.events.rule-arn`, `aws.events.rule-name`, `aws.events.event.ingestion-time`,
 * `aws.events.event` and `aws.events.event.json` (the whole event).
 */
import type { TargetDefinition } from './bus-definitions.ts';

/** The rule an event matched, for the reserved transformer variables. */
export interface MatchedRule {
  readonly name: string;
  readonly arn: string;
}

/** The text target `target` of `rule` receives for `event` (an event envelope). */
export function targetInput(
  target: Pick<TargetDefinition, 'input' | 'inputPath' | 'inputTransformer'>,
  event: Readonly<Record<string, unknown>>,
  rule: MatchedRule,
  ingestionTime: Date,
): string {
  if (target.input !== undefined) return target.input;
  if (target.inputPath !== undefined) return JSON.stringify(selectPath(event, target.inputPath) ?? null);
  if (target.inputTransformer === undefined) return JSON.stringify(event);
  const values = new Map<string, unknown>();
  for (const [name, path] of Object.entries(target.inputTransformer.inputPathsMap)) values.set(name, selectPath(event, path));
  values.set('aws.events.rule-arn', rule.arn);
  values.set('aws.events.rule-name', rule.name);
  values.set('aws.events.event.ingestion-time', ingestionTime.toISOString());
  values.set('aws.events.event', event);
  values.set('aws.events.event.json', event);
  return fillTemplate(target.inputTransformer.inputTemplate, values);
}

/**
 * The value at a JSONPath of the simple forms EventBridge accepts (`$`, `$.a.b`,
 * `$.a['b-c']`, `$.list[0]`); undefined when nothing is there.
 */
export function selectPath(root: unknown, path: string): unknown {
  if (!path.startsWith('$')) throw new Error(`JSONPath ${path}: must start with $`);
  const steps = /\.([^.[\]]+)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\]/gy;
  let value: unknown = root;
  steps.lastIndex = 1;
  while (steps.lastIndex < path.length) {
    const start = steps.lastIndex;
    const step = steps.exec(path);
    if (step === null) throw new Error(`JSONPath ${path}: cannot read it from position ${start}`);
    const key = step[1] ?? step[3] ?? step[4];
    if (typeof value !== 'object' || value === null) return undefined;
    if (step[2] !== undefined) {
      value = Array.isArray(value) ? value[Number(step[2])] : undefined;
    } else if (key !== undefined) {
      value = Array.isArray(value) ? undefined : (value as Record<string, unknown>)[key];
    }
  }
  return value;
}

function fillTemplate(template: string, values: ReadonlyMap<string, unknown>): string {
  const json = /^\s*[[{]/.test(template);
  let out = '';
  let inString = false;
  for (let index = 0; index < template.length; index += 1) {
    const char = template[index] as string;
    if (inString && char === '\\') {
      out += char + (template[index + 1] ?? '');
      index += 1;
      continue;
    }
    if (char === '"') inString = !inString;
    if (char === '<') {
      const end = template.indexOf('>', index);
      const name = end < 0 ? undefined : template.slice(index + 1, end);
      if (name !== undefined && values.has(name)) {
        const value = values.get(name);
        out += !json ? text(value) : inString ? JSON.stringify(text(value)).slice(1, -1) : JSON.stringify(value ?? null);
        index = end;
        continue;
      }
    }
    out += char;
  }
  return out;
}

/** A value as text: a string as it is, a missing value as nothing, anything else as JSON. */
function text(value: unknown): string {
  if (value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
