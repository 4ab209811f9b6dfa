/**
 * The local hub's EventBridge event-pattern matcher against AWS's documented behaviour.
 *
 * Every case names where its expectation comes from:
 * - `docs:<page>#<section>`: the Amazon EventBridge User Guide
 *   (https://docs.aws.amazon.com/eventbridge/latest/userguide/<page>.html), using its
 *   example patterns and events.
 * - `aws:TestEventPattern`: an answer real EventBridge gave, as recorded by LocalStack's
 *   AWS-validated pattern suite (tests/aws/services/events/test_events_patterns.py).
 * - `ruler:<file>`: aws/event-ruler, the matcher EventBridge runs, where the docs are silent.
 * Negative cases say in `why` which plausible bug they catch.
 */
import { describe, expect, it } from 'vitest';
import {
  compileEventPattern,
  InvalidEventPatternError,
  matchesEventPattern,
  validateEventPattern,
} from '../../local/eventbridge/event-pattern.ts';

interface MatchCase {
  readonly name: string;
  readonly source: string;
  readonly pattern: unknown;
  readonly event: unknown;
  readonly matches: boolean;
  /** For a negative case: the bug it catches. */
  readonly why?: string;
}

const OPERATORS = 'docs:eb-create-pattern-operators';
const PATTERNS = 'docs:eb-event-patterns';
const FIELD_VALUES = 'docs:eb-filtering-data-types';
const NULLS = 'docs:eb-event-patterns-null-values';
const ARRAYS = 'docs:eb-event-patterns-arrays';
const TEST_EVENT_PATTERN = 'aws:TestEventPattern';

// docs:eb-event-patterns — the EC2 event every pattern page starts from.
const ec2Terminated = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '111122223333',
  time: '2017-12-22T18:43:48Z',
  region: 'us-west-1',
  resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
  detail: { 'instance-id': 'i-1234567890abcdef0', state: 'terminated' },
};

/** The EC2 envelope around another `detail`, as the operator examples use. */
function ec2With(detail: Record<string, unknown>, envelope: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...ec2Terminated, ...envelope, detail };
}

// docs:eb-event-patterns-null-values and docs:eb-filtering-data-types#eb-filtering-example
const autoScalingLaunch = {
  version: '0',
  id: '3e3c153a-8339-4e30-8c35-687ebef853fe',
  'detail-type': 'EC2 Instance Launch Successful',
  source: 'aws.autoscaling',
  account: '123456789012',
  time: '2015-11-11T21:31:47Z',
  region: 'us-east-1',
  resources: [],
  detail: { eventVersion: '', responseElements: null },
};

// docs:eb-filtering-data-types#eb-filtering-value-example (the Macie alert, truncated as in the docs)
const macieAlert = {
  version: '0',
  id: '3e355723-fca9-4de3-9fd7-154c289d6b59',
  'detail-type': 'Macie Alert',
  source: 'aws.macie',
  account: '123456789012',
  time: '2017-04-24T22:28:49Z',
  region: 'us-east-1',
  resources: [
    'arn:aws:macie:us-east-1:123456789012:trigger/trigger_id/alert/alert_id',
    'arn:aws:macie:us-east-1:123456789012:trigger/trigger_id',
  ],
  detail: {
    'notification-type': 'ALERT_CREATED',
    name: 'Scanning bucket policies',
    tags: ['Custom_Alert', 'Insider'],
    'risk-score': 80,
    trigger: { 'rule-arn': 'arn:aws:macie:us-east-1:123456789012:trigger/trigger_id', 'alert-type': 'basic', risk: 8 },
  },
};

// ruler:README.md#ruler-by-example — the event the numeric, CIDR and complex examples are written for.
const rulerExample = ec2With(
  { 'c-count': 5, 'd-count': 3, 'x-limit': 301.8, 'source-ip': '10.0.0.33', 'instance-id': 'i-000000aaaaaa00000', state: 'running' },
  { time: '2017-10-02T16:24:49Z', region: 'us-east-1' },
);

// ruler:README.md#json-array-matching — arrays of objects, nested one level.
const employees = {
  employees: [
    [
      { firstName: 'John', lastName: 'Doe', ids: [1234, 1000, 9999] },
      { firstName: 'Anna', lastName: 'Smith' },
    ],
    [{ firstName: 'Peter', lastName: 'Jones', ids: [] }],
  ],
};

const ec2Pattern = {
  source: ['aws.ec2'],
  'detail-type': ['EC2 Instance State-change Notification'],
  detail: { state: ['terminated'] },
};

const exactValues: MatchCase[] = [
  { name: 'the EC2 termination pattern matches its event', source: PATTERNS, pattern: ec2Pattern, event: ec2Terminated, matches: true },
  {
    name: 'another state does not match',
    source: PATTERNS,
    pattern: ec2Pattern,
    event: ec2With({ 'instance-id': 'i-1234567890abcdef0', state: 'running' }),
    matches: false,
    why: 'a matcher that only checks that the field exists',
  },
  {
    name: 'string values are compared case-sensitively',
    source: `${PATTERNS} ("exact character-by-character matching without case-folding")`,
    pattern: { 'detail-type': ['ec2 instance state-change notification'] },
    event: ec2Terminated,
    matches: false,
    why: 'case-insensitive comparison',
  },
  {
    name: 'fields of the event the pattern does not name are ignored',
    source: PATTERNS,
    pattern: { source: ['aws.ec2'] },
    event: ec2Terminated,
    matches: true,
  },
  {
    name: 'a field named in the pattern must be in the event',
    source: PATTERNS,
    pattern: { source: ['aws.ec2'], detail: { 'previous-state': ['running'] } },
    event: ec2Terminated,
    matches: false,
    why: 'skipping pattern fields the event lacks',
  },
  {
    name: 'fields must appear with the same nesting',
    source: PATTERNS,
    pattern: { state: ['terminated'] },
    event: ec2Terminated,
    matches: false,
    why: 'searching for the field at any depth',
  },
  {
    name: 'an object is not a value: exact matching never matches a non-leaf',
    source: `${OPERATORS} ("Comparison operators only work on leaf nodes")`,
    pattern: { detail: { state: ['terminated'] } },
    event: ec2With({ state: { name: 'terminated' } }),
    matches: false,
    why: 'descending into an object to compare its values',
  },
  {
    name: 'numbers match numbers',
    source: `${FIELD_VALUES}#eb-filtering-value-example`,
    pattern: { source: ['aws.macie'], 'detail-type': ['Macie Alert'], detail: { 'risk-score': [80], trigger: { risk: [8] } } },
    event: macieAlert,
    matches: true,
  },
  {
    name: 'a different number does not match',
    source: `${FIELD_VALUES}#eb-filtering-value-example`,
    pattern: { detail: { trigger: { risk: [9] } } },
    event: macieAlert,
    matches: false,
    why: 'numbers compared loosely',
  },
  {
    name: 'a string pattern never matches a number',
    source: `${PATTERNS} (values follow JSON rules: quoted strings, numbers, true, false, null)`,
    pattern: { detail: { 'risk-score': ['80'] } },
    event: macieAlert,
    matches: false,
    why: 'comparing String(value)',
  },
  {
    name: 'a number pattern never matches a string',
    source: PATTERNS,
    pattern: { detail: { 'risk-score': [80] } },
    event: ec2With({ 'risk-score': '80' }),
    matches: false,
    why: 'comparing String(value)',
  },
  {
    name: 'numbers are compared by value: 300 matches 300.0',
    source: `${TEST_EVENT_PATTERN} (the older docs said 300 and 300.0 differ; EventBridge now matches them)`,
    pattern: JSON.parse('{"number": [300]}'),
    event: JSON.parse('{"number": 300.0}'),
    matches: true,
  },
  { name: 'false matches false', source: TEST_EVENT_PATTERN, pattern: { flag: [false] }, event: { flag: false }, matches: true },
  {
    name: 'false does not match true',
    source: TEST_EVENT_PATTERN,
    pattern: { flag: [false] },
    event: { flag: true },
    matches: false,
    why: 'truthiness comparison',
  },
  {
    name: 'true does not match the string "true"',
    source: PATTERNS,
    pattern: { flag: [true] },
    event: { flag: 'true' },
    matches: false,
    why: 'comparing String(value)',
  },
  {
    name: 'an empty string matches an empty string',
    source: NULLS,
    pattern: { detail: { eventVersion: [''] } },
    event: autoScalingLaunch,
    matches: true,
  },
  {
    name: 'null matches null',
    source: `${NULLS} and ${FIELD_VALUES}#eb-filtering-example`,
    pattern: { source: ['aws.autoscaling'], 'detail-type': ['EC2 Instance Launch Successful'], detail: { responseElements: [null] } },
    event: autoScalingLaunch,
    matches: true,
  },
  {
    name: 'an empty-string pattern does not match null',
    source: `${NULLS} ("Null values and empty strings are not interchangeable")`,
    pattern: { detail: { responseElements: [''] } },
    event: autoScalingLaunch,
    matches: false,
    why: 'treating null and "" alike',
  },
  {
    name: 'a null pattern does not match an empty string',
    source: NULLS,
    pattern: { detail: { eventVersion: [null] } },
    event: autoScalingLaunch,
    matches: false,
    why: 'treating null and "" alike',
  },
  {
    name: 'a null pattern does not match the string "null"',
    source: TEST_EVENT_PATTERN,
    pattern: { detail: { responseElements: [null] } },
    event: ec2With({ responseElements: 'null' }),
    matches: false,
    why: 'comparing String(value)',
  },
  {
    name: 'a null pattern does not match a missing field',
    source: NULLS,
    pattern: { detail: { responseElements: [null] } },
    event: ec2Terminated,
    matches: false,
    why: 'reading a missing field as null',
  },
  {
    name: 'field names are case-sensitive',
    source: TEST_EVENT_PATTERN,
    pattern: { DETAIL: { state: ['terminated'] } },
    event: ec2Terminated,
    matches: false,
    why: 'case-insensitive keys',
  },
  {
    name: 'a JSON string that looks like an object is still a string',
    source: TEST_EVENT_PATTERN,
    pattern: { detail: { state: ['terminated'] } },
    event: { ...ec2Terminated, detail: JSON.stringify(ec2Terminated.detail) },
    matches: false,
    why: 'parsing string fields as JSON',
  },
  {
    name: 'any of the values in the pattern array may match',
    source: `${PATTERNS}#eb-filtering-match-values`,
    pattern: { source: ['aws.ec2', 'aws.fargate'] },
    event: { ...ec2Terminated, source: 'aws.fargate' },
    matches: true,
  },
  {
    name: 'none of the values in the pattern array matching is no match',
    source: `${PATTERNS}#eb-filtering-match-values`,
    pattern: { source: ['aws.ec2', 'aws.fargate'] },
    event: { ...ec2Terminated, source: 'aws.s3' },
    matches: false,
    why: 'treating the value array as "contains any" of the event',
  },
  {
    name: 'every top-level field can be matched: id, version, account, region, time, resources',
    source: `${PATTERNS} (envelope fields are matched like any other)`,
    pattern: {
      id: ['6a7e8feb-b491-4cf7-a9f1-bf3703467718'],
      version: ['0'],
      account: ['111122223333'],
      region: ['us-west-1'],
      time: ['2017-12-22T18:43:48Z'],
      resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
    },
    event: ec2Terminated,
    matches: true,
  },
  {
    name: 'a top-level field that differs fails the whole pattern',
    source: PATTERNS,
    pattern: { source: ['aws.ec2'], account: ['999999999999'] },
    event: ec2Terminated,
    matches: false,
    why: 'matching only source, detail-type and detail',
  },
];

const arrays: MatchCase[] = [
  {
    name: 'an event array matches when it shares a value with the pattern array',
    source: ARRAYS,
    pattern: {
      resources: [
        'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
        'arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f',
        'arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f',
      ],
    },
    event: {
      ...ec2Terminated,
      resources: [
        'arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate',
        'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
      ],
    },
    matches: true,
  },
  {
    name: 'an event array sharing no value does not match',
    source: ARRAYS,
    pattern: { resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f'] },
    event: {
      ...ec2Terminated,
      resources: ['arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate'],
    },
    matches: false,
    why: 'matching on the first element only, or on array length',
  },
  {
    name: 'a value array in detail matches any element',
    source: `${FIELD_VALUES}#eb-filtering-value-example`,
    pattern: { detail: { tags: ['Insider'] } },
    event: macieAlert,
    matches: true,
  },
  {
    name: 'an empty event array holds no null',
    source: TEST_EVENT_PATTERN,
    pattern: { resources: [null] },
    event: autoScalingLaunch,
    matches: false,
    why: 'reading [] as a null value',
  },
  {
    name: 'a field inside an array of objects is matched in any element',
    source: 'ruler:README.md#json-array-matching',
    pattern: { employees: { firstName: ['Anna'] } },
    event: employees,
    matches: true,
  },
  {
    name: 'fields matched inside an array of objects must come from the same element',
    source: 'ruler:README.md#json-array-matching ("will not match the Anna/Jones rule")',
    pattern: { employees: { firstName: ['Anna'], lastName: ['Jones'] } },
    event: employees,
    matches: false,
    why: 'flattening arrays without array consistency',
  },
  {
    name: 'fields from the same element match together',
    source: 'ruler:README.md#json-array-matching',
    pattern: { employees: { firstName: ['Anna'], lastName: ['Smith'] } },
    event: employees,
    matches: true,
  },
  {
    name: 'a leaf array inside the chosen element is searched too',
    source: 'ruler:RulerTest.java (WHEN_JSONContainsArrays_THEN_RulerNoCompileMatchesWork)',
    pattern: { employees: { firstName: ['John'], ids: [1000] } },
    event: employees,
    matches: true,
  },
  {
    name: 'a leaf array in another element does not count',
    source: 'ruler:RulerTest.java (WHEN_JSONContainsArrays_THEN_RulerNoCompileMatchesWork)',
    pattern: { employees: { firstName: ['Anna'], ids: [1000] } },
    event: employees,
    matches: false,
    why: 'array consistency ignored for leaf arrays',
  },
];

const prefix: MatchCase[] = [
  {
    name: 'prefix matches the start of a string',
    source: `${OPERATORS}#eb-filtering-prefix-matching`,
    pattern: { time: [{ prefix: '2017-12-22' }] },
    event: ec2Terminated,
    matches: true,
  },
  {
    name: 'prefix does not match elsewhere in the string',
    source: `${OPERATORS}#eb-filtering-prefix-matching`,
    pattern: { time: [{ prefix: '12-22' }] },
    event: ec2Terminated,
    matches: false,
    why: 'includes() instead of startsWith()',
  },
  {
    name: 'prefix is case-sensitive',
    source: `${OPERATORS}#eb-filtering-prefix-matching`,
    pattern: { source: [{ prefix: 'AWS.' }] },
    event: ec2Terminated,
    matches: false,
    why: 'case-insensitive prefix',
  },
  {
    name: 'prefix only applies to strings, never numbers',
    source: `${OPERATORS}#eb-filtering-prefix-matching ("You can use prefix matching for string values")`,
    pattern: { detail: { 'risk-score': [{ prefix: '8' }] } },
    event: macieAlert,
    matches: false,
    why: 'prefix matching String(80)',
  },
  {
    name: 'an empty prefix matches any string',
    source: TEST_EVENT_PATTERN,
    pattern: { source: [{ prefix: '' }] },
    event: ec2Terminated,
    matches: true,
  },
  {
    name: 'an empty prefix does not match null',
    source: `${OPERATORS}#eb-filtering-prefix-matching`,
    pattern: { detail: { responseElements: [{ prefix: '' }] } },
    event: autoScalingLaunch,
    matches: false,
    why: 'prefix matching String(null)',
  },
  {
    name: 'prefix applies to each element of an event array',
    source: `${OPERATORS}#eb-filtering-prefix-matching and ${ARRAYS}`,
    pattern: { resources: [{ prefix: 'arn:aws:ec2:' }] },
    event: ec2Terminated,
    matches: true,
  },
  {
    name: 'prefix with equals-ignore-case matches any casing',
    source: `${OPERATORS}#eb-filtering-prefix-matching (prefix with equals-ignore-case)`,
    pattern: { detail: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } },
    event: ec2With({ service: 'eventBridge' }),
    matches: true,
  },
  {
    name: 'prefix with equals-ignore-case still needs the prefix',
    source: `${OPERATORS}#eb-filtering-prefix-matching (prefix with equals-ignore-case)`,
    pattern: { detail: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } },
    event: ec2With({ service: 'Event-Bridge' }),
    matches: false,
    why: 'ignoring the case operator\'s operand',
  },
];

const suffix: MatchCase[] = [
  {
    name: 'suffix matches the end of a string',
    source: `${OPERATORS}#eb-filtering-suffix-matching`,
    pattern: { FileName: [{ suffix: '.png' }] },
    event: { FileName: 'image.png' },
    matches: true,
  },
  {
    name: 'suffix is case-sensitive',
    source: `${OPERATORS}#eb-filtering-suffix-matching`,
    pattern: { FileName: [{ suffix: '.png' }] },
    event: { FileName: 'image.PNG' },
    matches: false,
    why: 'case-insensitive suffix',
  },
  {
    name: 'suffix must be at the end',
    source: `${OPERATORS}#eb-filtering-suffix-matching`,
    pattern: { FileName: [{ suffix: '.png' }] },
    event: { FileName: 'image.png.bak' },
    matches: false,
    why: 'includes() instead of endsWith()',
  },
  {
    name: 'suffix only applies to strings, never numbers',
    source: `${OPERATORS}#eb-filtering-suffix-matching ("You can use suffix matching for string values")`,
    pattern: { detail: { 'risk-score': [{ suffix: '0' }] } },
    event: macieAlert,
    matches: false,
    why: 'suffix matching String(80)',
  },
  {
    name: 'suffix with equals-ignore-case matches another casing',
    source: `${OPERATORS}#eb-filtering-suffix-matching (suffix with equals-ignore-case)`,
    pattern: { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } },
    event: ec2With({ FileName: 'image.PNG' }),
    matches: true,
  },
  {
    name: 'suffix with equals-ignore-case still needs the suffix',
    source: `${OPERATORS}#eb-filtering-suffix-matching (suffix with equals-ignore-case)`,
    pattern: { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } },
    event: ec2With({ FileName: 'image.jpg' }),
    matches: false,
    why: 'ignoring the case operator\'s operand',
  },
  {
    name: 'suffix with equals-ignore-case is anchored at the end, not the start',
    source: `${OPERATORS} (table: service ends with "tbridge" in any casing)`,
    pattern: { service: [{ suffix: { 'equals-ignore-case': 'tbridge' } }] },
    event: { service: 'TBRIDGE-EVENTS' },
    matches: false,
    why: 'a prefix regex used for the suffix operator',
  },
  {
    name: 'suffix with equals-ignore-case: the operators table example',
    source: `${OPERATORS} (table: service ends with "tbridge" in any casing)`,
    pattern: { service: [{ suffix: { 'equals-ignore-case': 'tbridge' } }] },
    event: { service: 'EVENTBRIDGE' },
    matches: true,
  },
];

const equalsIgnoreCase: MatchCase[] = [
  {
    name: 'equals-ignore-case matches another casing',
    source: `${OPERATORS}#eb-filtering-equals-ignore-case-matching`,
    pattern: { Name: [{ 'equals-ignore-case': 'alice' }] },
    event: { Name: 'ALICE' },
    matches: true,
  },
  {
    name: 'equals-ignore-case is equality, not a prefix',
    source: `${OPERATORS}#eb-filtering-equals-ignore-case-matching`,
    pattern: { Name: [{ 'equals-ignore-case': 'alice' }] },
    event: { Name: 'Alicia' },
    matches: false,
    why: 'an unanchored case-insensitive regex',
  },
  {
    name: 'equals-ignore-case only applies to strings',
    source: `${OPERATORS}#eb-filtering-equals-ignore-case-matching`,
    pattern: { flag: [{ 'equals-ignore-case': 'true' }] },
    event: { flag: true },
    matches: false,
    why: 'lower-casing String(value)',
  },
  {
    name: 'equals-ignore-case of an empty string matches only an empty string',
    source: TEST_EVENT_PATTERN,
    pattern: { detail: { value: [{ 'equals-ignore-case': '' }] } },
    event: ec2With({ value: 'test-value' }),
    matches: false,
    why: 'an empty pattern matching everything',
  },
  {
    name: 'equals-ignore-case folds case one character at a time, so ß matches SS',
    source: 'ruler:input/EqualsIgnoreCaseParser.java (each char matches its lower- or upper-case form)',
    pattern: { street: [{ 'equals-ignore-case': 'straße' }] },
    event: { street: 'STRASSE' },
    matches: true,
  },
];

const anythingBut: MatchCase[] = [
  {
    name: 'anything-but a string matches another string',
    source: `${OPERATORS}#eb-filtering-anything-but`,
    pattern: { detail: { state: [{ 'anything-but': 'initializing' }] } },
    event: ec2With({ state: 'pending' }),
    matches: true,
  },
  {
    name: 'anything-but a string does not match that string',
    source: `${OPERATORS}#eb-filtering-anything-but`,
    pattern: { detail: { state: [{ 'anything-but': 'initializing' }] } },
    event: ec2With({ state: 'initializing' }),
    matches: false,
    why: 'anything-but ignored',
  },
  {
    name: 'plain anything-but is case-sensitive',
    source: `${OPERATORS}#eb-filtering-anything-but-ignore-case (the separate operator for casing)`,
    pattern: { detail: { state: [{ 'anything-but': 'initializing' }] } },
    event: ec2With({ state: 'INITIALIZING' }),
    matches: true,
  },
  {
    name: 'anything-but matches a null value',
    source: TEST_EVENT_PATTERN,
    pattern: { detail: { state: [{ 'anything-but': 'initializing' }] } },
    event: ec2With({ state: null }),
    matches: true,
  },
  {
    name: 'anything-but does not match a missing field',
    source: TEST_EVENT_PATTERN,
    pattern: { detail: { state: [{ 'anything-but': 'initializing' }] } },
    event: ec2With({}),
    matches: false,
    why: 'implementing anything-but as "not equal", which a missing field satisfies',
  },
  {
    name: 'anything-but a list excludes every listed string',
    source: `${OPERATORS}#eb-filtering-anything-but`,
    pattern: { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } },
    event: ec2With({ state: 'overloaded' }),
    matches: false,
    why: 'only the first list entry excluded, or the list compared as a whole',
  },
  {
    name: 'anything-but a list matches an unlisted string',
    source: `${OPERATORS}#eb-filtering-anything-but`,
    pattern: { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } },
    event: ec2With({ state: 'running' }),
    matches: true,
  },
  {
    name: 'anything-but a number does not match that number',
    source: `${OPERATORS}#eb-filtering-anything-but`,
    pattern: { detail: { 'x-limit': [{ 'anything-but': 123 }] } },
    event: ec2With({ 'x-limit': 123 }),
    matches: false,
    why: 'anything-but compared only to strings',
  },
  {
    name: 'anything-but a number matches another number',
    source: `${OPERATORS}#eb-filtering-anything-but`,
    pattern: { detail: { 'x-limit': [{ 'anything-but': 123 }] } },
    event: ec2With({ 'x-limit': 789 }),
    matches: true,
  },
  {
    name: 'anything-but a number does not exclude the string of that number',
    source: 'ruler:ByteMachine.java (a numeric anything-but only fails on numeric values)',
    pattern: { detail: { 'x-limit': [{ 'anything-but': 123 }] } },
    event: ec2With({ 'x-limit': '123' }),
    matches: true,
  },
  {
    name: 'anything-but a number list excludes each number, compared by value',
    source: `${OPERATORS}#eb-filtering-complex-example`,
    pattern: { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } },
    event: JSON.parse('{"detail": {"x-limit": 300.0}}'),
    matches: false,
    why: 'numbers compared as text',
  },
  {
    name: 'an event array matches anything-but when one element is not excluded',
    source: 'ruler:ByteMachine.java (each element is a value) and the SNS Developer Guide, numeric-value-matching: [100, 50] "contains a value that isn\'t 100 or 500"',
    pattern: { price: [{ 'anything-but': [100, 500] }] },
    event: { price: [100, 50] },
    matches: true,
  },
  {
    name: 'an event array whose elements are all excluded does not match',
    source: 'ruler:ByteMachine.java and the SNS Developer Guide, numeric-value-matching',
    pattern: { price: [{ 'anything-but': [100, 500] }] },
    event: { price: [100, 500] },
    matches: false,
    why: 'anything-but tested against the array as a whole',
  },
  {
    name: 'anything-but prefix does not match a value with the prefix',
    source: `${OPERATORS}#eb-filtering-anything-but-prefix`,
    pattern: { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } },
    event: ec2With({ state: 'initializing' }),
    matches: false,
    why: 'anything-but ignoring its prefix operator',
  },
  {
    name: 'anything-but prefix matches a value without the prefix',
    source: `${OPERATORS}#eb-filtering-anything-but-prefix`,
    pattern: { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } },
    event: ec2With({ state: 'post-init' }),
    matches: true,
  },
  {
    name: 'anything-but prefix matches a number',
    source: TEST_EVENT_PATTERN,
    pattern: { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } },
    event: ec2With({ state: 12 }),
    matches: true,
  },
  {
    name: 'anything-but prefix with a list excludes every prefix',
    source: 'ruler:README.md#anything-but-matching (anything-but prefix list)',
    pattern: { detail: { state: [{ 'anything-but': { prefix: ['init', 'error'] } }] } },
    event: ec2With({ state: 'error-disk' }),
    matches: false,
    why: 'only the first prefix honoured',
  },
  {
    name: 'anything-but suffix does not match a value with the suffix',
    source: `${OPERATORS}#eb-filtering-anything-but-suffix`,
    pattern: { FileName: [{ 'anything-but': { suffix: '.png' } }] },
    event: { FileName: 'image.png' },
    matches: false,
    why: 'anything-but suffix read as anything-but prefix',
  },
  {
    name: 'anything-but suffix matches a value without the suffix',
    source: `${OPERATORS}#eb-filtering-anything-but-suffix`,
    pattern: { FileName: [{ 'anything-but': { suffix: '.png' } }] },
    event: { FileName: 'image.png.bak' },
    matches: true,
  },
  {
    name: 'anything-but equals-ignore-case excludes every casing',
    source: `${OPERATORS}#eb-filtering-anything-but-ignore-case`,
    pattern: { detail: { state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] } },
    event: ec2With({ state: 'INITIALIZING' }),
    matches: false,
    why: 'case-sensitive exclusion',
  },
  {
    name: 'anything-but equals-ignore-case matches another value',
    source: `${OPERATORS}#eb-filtering-anything-but-ignore-case`,
    pattern: { detail: { state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] } },
    event: ec2With({ state: 'pending' }),
    matches: true,
  },
  {
    name: 'anything-but equals-ignore-case with a list excludes each entry in any casing',
    source: 'ruler:README.md#anything-but-matching (anything-but-ignore-case list)',
    pattern: { detail: { state: [{ 'anything-but': { 'equals-ignore-case': ['Stopped', 'OverLoaded'] } }] } },
    event: ec2With({ state: 'overloaded' }),
    matches: false,
    why: 'only the first entry excluded',
  },
  {
    name: 'anything-but wildcard does not match a path containing /lib/',
    source: `${OPERATORS}#eb-filtering-anything-but-wildcard`,
    pattern: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] },
    event: { FilePath: '/usr/lib/node' },
    matches: false,
    why: 'the wildcard read literally',
  },
  {
    name: 'anything-but wildcard matches a path without /lib/',
    source: `${OPERATORS}#eb-filtering-anything-but-wildcard`,
    pattern: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] },
    event: { FilePath: '/usr/bin/node' },
    matches: true,
  },
  {
    name: 'anything-but wildcard with a list excludes every wildcard',
    source: TEST_EVENT_PATTERN,
    pattern: { detail: { state: [{ 'anything-but': { wildcard: ['*/init/*', '*/dir/*'] } }] } },
    event: ec2With({ state: 'dir/init/dir' }),
    matches: false,
    why: 'only the first wildcard honoured',
  },
];

const numeric: MatchCase[] = [
  {
    name: 'the documented range, upper bound and equality all hold',
    source: `${OPERATORS}#filtering-numeric-matching`,
    pattern: {
      detail: {
        'c-count': [{ numeric: ['>', 0, '<=', 5] }],
        'd-count': [{ numeric: ['<', 10] }],
        'x-limit': [{ numeric: ['=', 3.018e2] }],
      },
    },
    event: rulerExample,
    matches: true,
  },
  {
    name: '> is exclusive',
    source: `${OPERATORS}#filtering-numeric-matching`,
    pattern: { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] } },
    event: ec2With({ 'c-count': 0 }),
    matches: false,
    why: '> treated as >=',
  },
  {
    name: '<= is inclusive',
    source: `${OPERATORS}#filtering-numeric-matching`,
    pattern: { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] } },
    event: ec2With({ 'c-count': 5 }),
    matches: true,
  },
  {
    name: 'just above the upper bound does not match',
    source: `${OPERATORS}#filtering-numeric-matching`,
    pattern: { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] } },
    event: ec2With({ 'c-count': 5.000001 }),
    matches: false,
    why: 'the upper bound of a range ignored',
  },
  {
    name: '< is exclusive',
    source: `${OPERATORS}#filtering-numeric-matching`,
    pattern: { detail: { 'd-count': [{ numeric: ['<', 10] }] } },
    event: ec2With({ 'd-count': 10 }),
    matches: false,
    why: '< treated as <=',
  },
  {
    name: '>= is inclusive',
    source: `${OPERATORS}#filtering-numeric-matching`,
    pattern: { detail: { 'd-count': [{ numeric: ['>=', 10] }] } },
    event: ec2With({ 'd-count': 10 }),
    matches: true,
  },
  {
    name: '= compares by value: 3.018e2 equals 301.8',
    source: `${OPERATORS}#filtering-numeric-matching`,
    pattern: { detail: { 'x-limit': [{ numeric: ['=', 3.018e2] }] } },
    event: ec2With({ 'x-limit': 301.8 }),
    matches: true,
  },
  {
    name: 'a numeric string never matches numeric',
    source: `${OPERATORS}#filtering-numeric-matching ("works with values that are JSON numbers")`,
    pattern: { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] } },
    event: ec2With({ 'c-count': '5' }),
    matches: false,
    why: 'Number(value) coercion',
  },
  {
    name: 'null never matches numeric',
    source: TEST_EVENT_PATTERN,
    pattern: { number: [{ numeric: ['<', 100] }] },
    event: { number: null },
    matches: false,
    why: 'null coerced to 0',
  },
  {
    name: 'negative ranges work',
    source: `${OPERATORS}#filtering-numeric-matching`,
    pattern: { temperature: [{ numeric: ['>', -10, '<', -5] }] },
    event: { temperature: -7.5 },
    matches: true,
  },
  {
    name: 'numbers beyond the old ±1e9 limit compare as doubles',
    source: 'ruler:ComparableNumber.java ("All possible double numbers (IEEE-754 binary64 standard) are allowed")',
    pattern: { bytes: [{ numeric: ['>', 1e9] }] },
    event: { bytes: 5e12 },
    matches: true,
  },
  {
    name: 'numeric applies to each element of an event array',
    source: `${OPERATORS}#filtering-numeric-matching and ${ARRAYS}`,
    pattern: { sizes: [{ numeric: ['>', 10] }] },
    event: { sizes: [1, 20] },
    matches: true,
  },
];

const exists: MatchCase[] = [
  {
    name: 'exists true matches a present leaf',
    source: `${OPERATORS}#eb-filtering-exists-matching`,
    pattern: { detail: { state: [{ exists: true }] } },
    event: ec2With({ 'instance-id': 'i-abcd1111', state: 'pending' }, { id: '7bf73129-1428-4cd3-a780-95db273d1602' }),
    matches: true,
  },
  {
    name: 'exists true does not match when the field is absent',
    source: `${OPERATORS}#eb-filtering-exists-matching`,
    pattern: { detail: { state: [{ exists: true }] } },
    event: ec2With({ 'c-count': { c1: 100 } }),
    matches: false,
    why: 'exists ignored',
  },
  {
    name: 'exists false matches when the field is absent',
    source: `${OPERATORS}#eb-filtering-exists-matching`,
    pattern: { detail: { 'c-count': [{ exists: false }] } },
    event: ec2With({ state: 'initializing' }),
    matches: true,
  },
  {
    name: 'exists false matches when the field is an object, which is not a leaf',
    source: `${OPERATORS}#eb-filtering-exists-matching ("also matches … because c-count isn't a leaf node")`,
    pattern: { detail: { 'c-count': [{ exists: false }] } },
    event: ec2With({ state: 'initializing', 'c-count': { c1: 100 } }),
    matches: true,
  },
  {
    name: 'exists false does not match a present leaf',
    source: `${OPERATORS}#eb-filtering-exists-matching`,
    pattern: { detail: { 'c-count': [{ exists: false }] } },
    event: ec2With({ 'c-count': 5 }),
    matches: false,
    why: 'exists:false treated like exists:true, or ignored',
  },
  {
    name: 'exists true does not match an object',
    source: TEST_EVENT_PATTERN,
    pattern: { dynamodb: { presentKey: [{ exists: true }] } },
    event: { dynamodb: { presentKey: { S: 'test123' } } },
    matches: false,
    why: '`key in object` used for exists',
  },
  {
    name: 'a null value exists',
    source: 'docs:eb-event-patterns-content-based-filtering#eb-filtering-exists-matching (presence or absence of a field, not its value)',
    pattern: { detail: { responseElements: [{ exists: true }] } },
    event: autoScalingLaunch,
    matches: true,
  },
  {
    name: 'exists false does not match a null value',
    source: 'docs:eb-event-patterns-content-based-filtering#eb-filtering-exists-matching',
    pattern: { detail: { responseElements: [{ exists: false }] } },
    event: autoScalingLaunch,
    matches: false,
    why: 'null read as absent',
  },
  {
    name: 'an empty array has no leaf, so exists true does not match',
    source: TEST_EVENT_PATTERN,
    pattern: { resources: [{ exists: true }] },
    event: autoScalingLaunch,
    matches: false,
    why: 'an empty array counted as present',
  },
  {
    name: 'an empty array has no leaf, so exists false matches',
    source: `${TEST_EVENT_PATTERN} and ${OPERATORS}#eb-filtering-exists-matching (leaf nodes only)`,
    pattern: { resources: [{ exists: false }] },
    event: autoScalingLaunch,
    matches: true,
  },
  {
    name: 'exists true finds a field inside an array of objects',
    source: TEST_EVENT_PATTERN,
    pattern: { detail: { automations: { id: [{ exists: true }] } } },
    event: ec2With({ automations: [{ key1: 'value1' }, { id: 'match-does-exist' }, { key2: 'value2' }] }),
    matches: true,
  },
  {
    name: 'exists false matches when a whole branch of the event is missing',
    source: TEST_EVENT_PATTERN,
    pattern: { detail: { level1: { level2: { level3: [{ exists: false }] } } } },
    event: ec2With({ level1: { other: 'value' } }),
    matches: true,
  },
  {
    name: 'exists false looks only at the array element chosen by the other fields',
    source: 'ruler:RulerTest.java (WHEN_JSONContainsArrays_THEN_RulerNoCompileMatchesWork)',
    pattern: { employees: { firstName: ['Anna'], ids: [{ exists: false }] } },
    event: employees,
    matches: true,
  },
  {
    name: 'exists false is one alternative among others',
    source: TEST_EVENT_PATTERN,
    pattern: { dynamodb: { NewImage: { homemade: { S: [{ 'anything-but': ['roses'] }, { exists: false }] } } } },
    event: { dynamodb: { NewImage: { purchased: { N: '789' } } } },
    matches: true,
  },
];

const cidr: MatchCase[] = [
  {
    name: 'an IPv4 address inside the block matches',
    source: `${OPERATORS}#eb-filtering-ip-matching`,
    pattern: { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } },
    event: ec2With({ sourceIPAddress: '10.0.0.255' }),
    matches: true,
  },
  {
    name: 'the next address outside the block does not match',
    source: `${OPERATORS}#eb-filtering-ip-matching`,
    pattern: { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } },
    event: ec2With({ sourceIPAddress: '10.0.1.0' }),
    matches: false,
    why: 'string prefix comparison of addresses',
  },
  {
    name: 'a string that only looks like an address in the block does not match',
    source: TEST_EVENT_PATTERN,
    pattern: { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } },
    event: ec2With({ sourceIPAddress: '10.0.0.256' }),
    matches: false,
    why: 'octets not range-checked',
  },
  {
    name: 'a number is never an IP address',
    source: TEST_EVENT_PATTERN,
    pattern: { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } },
    event: ec2With({ sourceIPAddress: 123 }),
    matches: false,
    why: 'numbers read as 32-bit addresses',
  },
  {
    name: 'an IPv6 address inside the block matches, however it is written',
    source: `${TEST_EVENT_PATTERN} and ${OPERATORS}#eb-filtering-ip-matching (IPv4 and IPv6)`,
    pattern: { detail: { sourceIPAddress: [{ cidr: '2001:db8:1234:1a00::/64' }] } },
    event: ec2With({ sourceIPAddress: '2001:0db8:1234:1a00:0000:0000:0000:0000' }),
    matches: true,
  },
  {
    name: 'an IPv6 address outside the block does not match',
    source: TEST_EVENT_PATTERN,
    pattern: { detail: { sourceIPAddress: [{ cidr: '2001:db8:1234:1a00::/64' }] } },
    event: ec2With({ sourceIPAddress: '2001:0db8:123f:1a01:0000:0000:0000:0000' }),
    matches: false,
    why: 'mask applied to the wrong bits',
  },
  {
    name: 'an IPv4 address is not inside an IPv6 block',
    source: `${OPERATORS}#eb-filtering-ip-matching`,
    pattern: { detail: { sourceIPAddress: [{ cidr: '::/0' }] } },
    event: ec2With({ sourceIPAddress: '10.0.0.1' }),
    matches: false,
    why: 'families mixed up',
  },
  {
    name: 'an exact IP address in a pattern matches the same address written differently',
    source: 'ruler:JsonRuleCompiler.java (string values that are IP addresses compile to an address range)',
    pattern: { ip: ['2001:db8::1'] },
    event: { ip: '2001:0DB8:0000:0000:0000:0000:0000:0001' },
    matches: true,
  },
];

const wildcard: MatchCase[] = [
  {
    name: 'a leading wildcard matches any start',
    source: `${OPERATORS}#eb-filtering-wildcard-matching`,
    pattern: { FileName: [{ wildcard: '*.png' }] },
    event: { FileName: 'dir/photo.png' },
    matches: true,
  },
  {
    name: 'the text after the last wildcard must end the string',
    source: `${OPERATORS}#eb-filtering-wildcard-matching`,
    pattern: { FileName: [{ wildcard: '*.png' }] },
    event: { FileName: 'photo.png.bak' },
    matches: false,
    why: 'an unanchored regex',
  },
  {
    name: 'wildcards in the middle match the ARN of any account',
    source: `${TEST_EVENT_PATTERN} and ${OPERATORS}#eb-filtering-wildcard-matching`,
    pattern: { EventBusArn: [{ wildcard: 'arn:aws:events:us-east-1:*:event-bus/*' }] },
    event: { EventBusArn: 'arn:aws:events:us-east-1:123456789012:event-bus/myEventBus' },
    matches: true,
  },
  {
    name: 'a wildcard matches zero characters',
    source: 'ruler:README.md#wildcard-matching ("zero to many wildcard characters")',
    pattern: { source: [{ wildcard: 'Simple*Service' }] },
    event: { source: 'SimpleService' },
    matches: true,
  },
  {
    name: 'wildcard matching is case-sensitive',
    source: `${OPERATORS}#eb-filtering-wildcard-matching`,
    pattern: { title: [{ wildcard: '*Title*' }] },
    event: { title: 'my title' },
    matches: false,
    why: 'a case-insensitive regex',
  },
  {
    name: '\\* matches a literal asterisk',
    source: `${OPERATORS}#eb-filtering-wildcard-matching ("The string \\* represents the literal * character")`,
    pattern: { detail: { escape_star: [{ wildcard: 'a\\*b' }] } },
    event: ec2With({ escape_star: 'a*b' }),
    matches: true,
  },
  {
    name: '\\* does not match other characters',
    source: `${OPERATORS}#eb-filtering-wildcard-matching`,
    pattern: { detail: { escape_star: [{ wildcard: 'a\\*b' }] } },
    event: ec2With({ escape_star: 'axxb' }),
    matches: false,
    why: 'the escape dropped, leaving a wildcard',
  },
  {
    name: '\\\\ matches a literal backslash',
    source: `${OPERATORS}#eb-filtering-wildcard-matching ("The string \\\\ represents the literal \\ character")`,
    pattern: { detail: { escape_backslash: [{ wildcard: 'C:\\\\*' }] } },
    event: ec2With({ escape_backslash: 'C:\\Windows' }),
    matches: true,
  },
  {
    name: 'wildcard only applies to strings',
    source: `${OPERATORS}#eb-filtering-wildcard-matching`,
    pattern: { count: [{ wildcard: '1*' }] },
    event: { count: 12 },
    matches: false,
    why: 'wildcard matching String(12)',
  },
  {
    name: 'an empty wildcard matches only the empty string',
    source: TEST_EVENT_PATTERN,
    pattern: { EventBusArn: [{ wildcard: '' }] },
    event: { EventBusArn: 'arn:aws:events:us-east-1:123456789012:event-bus/myEventBus' },
    matches: false,
    why: 'an empty pattern matching everything',
  },
];

const documentedOr = {
  detail: {
    $or: [
      { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] },
      { 'd-count': [{ numeric: ['<', 10] }] },
      { 'x-limit': [{ numeric: ['=', 3.018e2] }] },
    ],
  },
};

const or: MatchCase[] = [
  {
    name: '$or matches when any one branch matches',
    source: `${OPERATORS}#eb-filtering-complex-example-or`,
    pattern: documentedOr,
    event: ec2With({ 'c-count': 0, 'd-count': 0, 'x-limit': 9.018e2 }),
    matches: true,
  },
  {
    name: '$or does not match when no branch matches',
    source: `${OPERATORS}#eb-filtering-complex-example-or`,
    pattern: documentedOr,
    event: ec2With({ 'c-count': 0, 'd-count': 10, 'x-limit': 9.018e2 }),
    matches: false,
    why: '$or treated as a field name, or an empty $or result read as a match',
  },
  {
    name: '$or at the top level chooses between whole field sets',
    source: `${OPERATORS}#eb-filtering-complex-example-or`,
    pattern: { $or: [{ source: ['aws.s3'] }, { detail: { state: ['terminated'] } }] },
    event: ec2Terminated,
    matches: true,
  },
  {
    name: 'fields beside $or still all have to match',
    source: 'ruler:README.md#rule-examples-with-or-primitive ("source" && ("metricName" || "namespace"))',
    pattern: { source: ['aws.cloudwatch'], $or: [{ metricName: ['CPUUtilization'] }, { namespace: ['AWS/EC2'] }] },
    event: { source: 'aws.ec2', namespace: 'AWS/EC2' },
    matches: false,
    why: 'the fields outside $or dropped',
  },
  {
    name: 'an $or branch with several fields needs all of them',
    source: 'ruler:README.md#rule-examples-with-or-primitive ("Or" has an "And" inside)',
    pattern: {
      source: ['aws.cloudwatch'],
      $or: [{ metricName: ['CPUUtilization'] }, { metricType: ['MetricType'], namespace: ['AWS/EC2', 'AWS/ES'] }, { scope: ['Service'] }],
    },
    event: { source: 'aws.cloudwatch', metricType: 'MetricType', namespace: 'AWS/RDS' },
    matches: false,
    why: 'fields of one branch OR-ed instead of AND-ed',
  },
  {
    name: '$or nests inside an $or branch',
    source: 'ruler:README.md#rule-examples-with-or-primitive (Nested "Or" and "And")',
    pattern: {
      source: ['aws.cloudwatch'],
      $or: [
        { metricName: ['CPUUtilization', 'ReadLatency'] },
        { metricType: ['MetricType'], namespace: ['AWS/EC2', 'AWS/ES'], $or: [{ metricId: [1234] }, { spaceId: [1000] }] },
        { scope: ['Service'] },
      ],
    },
    event: { source: 'aws.cloudwatch', metricType: 'MetricType', namespace: 'AWS/ES', spaceId: 1000 },
    matches: true,
  },
  {
    name: 'two $or at different levels must each be satisfied',
    source: 'ruler:README.md#rule-examples-with-or-primitive (Parallel "Or")',
    pattern: {
      $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }],
      detail: { $or: [{ source: ['aws.cloudwatch'] }, { 'detail-type': ['CloudWatch Alarm State Change'] }] },
    },
    event: { namespace: 'AWS/EC2', detail: { source: 'aws.ec2' } },
    matches: false,
    why: 'only one $or of several honoured',
  },
];

const paths: MatchCase[] = [
  {
    name: 'a dotted key in the pattern names the nested field',
    source: 'ruler:README.md#caveat-compiled-rules-and-json-keys-with-dots, confirmed by TestEventPattern',
    pattern: { detail: { 'state.status': ['running'] } },
    event: ec2With({ state: { status: 'running' } }),
    matches: true,
  },
  {
    name: 'a dotted key in the event is matched by a nested pattern',
    source: 'ruler:README.md#caveat-compiled-rules-and-json-keys-with-dots, confirmed by TestEventPattern',
    pattern: { detail: { state: { status: ['running'] } } },
    event: ec2With({ 'state.status': 'running' }),
    matches: true,
  },
  {
    name: 'a key given twice: the last one is used',
    source: 'docs:eb-event-patterns-content-based-filtering#eb-filtering-complex-example (note on repeated keys)',
    pattern: JSON.parse('{"detail": {"location": [{"prefix": "us-"}], "location": [{"anything-but": "us-east"}]}}'),
    event: ec2With({ location: 'eu-west-1' }),
    matches: true,
  },
  {
    name: 'a field named twice through a dotted key: the last definition wins, not both',
    source: 'docs:eb-event-patterns-content-based-filtering#eb-filtering-complex-example (note on repeated keys) and ruler:JsonRuleCompiler.java',
    pattern: { 'detail.location': [{ prefix: 'us-' }], detail: { location: [{ 'anything-but': 'us-east' }] } },
    event: ec2With({ location: 'eu-west-1' }),
    matches: true,
  },
];

/** Patterns EventBridge refuses, with the reason AWS gives and where it is. */
interface InvalidCase {
  readonly name: string;
  readonly source: string;
  readonly pattern: unknown;
  readonly reason: string;
  readonly path: string;
}

const RECORDED = `${TEST_EVENT_PATTERN} (InvalidEventPatternException message)`;
const COMPILER = 'ruler:JsonRuleCompiler.java';

const invalidPatterns: InvalidCase[] = [
  { name: 'a pattern that is not an object', source: COMPILER, pattern: ['aws.ec2'], reason: 'Filter is not an object', path: '$' },
  { name: 'a pattern that is null', source: COMPILER, pattern: null, reason: 'Filter is not an object', path: '$' },
  { name: 'an empty pattern', source: COMPILER, pattern: {}, reason: 'Empty objects are not allowed', path: '$' },
  { name: 'an empty nested object', source: COMPILER, pattern: { detail: {} }, reason: 'Empty objects are not allowed', path: '$.detail' },
  { name: 'a leaf that is a number, not an array', source: RECORDED, pattern: { int: 42 }, reason: '"int" must be an object or an array', path: '$.int' },
  {
    name: 'a leaf that is a string, not an array',
    source: `${RECORDED} and buildkite/docs#896 (a real "slug" pattern refused by PutRule)`,
    pattern: { detail: { pipeline: { slug: 'some-pipeline' } } },
    reason: '"slug" must be an object or an array',
    path: '$.detail.pipeline.slug',
  },
  { name: 'an empty value array', source: RECORDED, pattern: { resources: [] }, reason: 'Empty arrays are not allowed', path: '$.resources' },
  { name: 'an array inside a value array', source: COMPILER, pattern: { source: [['aws.ec2']] }, reason: 'Match value must be String, number, true, false, or null', path: '$.source[0]' },
  { name: 'an operator spelled in capitals', source: RECORDED, pattern: { detail: { equal: [{ NUMERIC: ['=', 5] }] } }, reason: 'Unrecognized match type NUMERIC', path: '$.detail.equal[0].NUMERIC' },
  { name: 'an unknown operator', source: COMPILER, pattern: { source: [{ contains: 'ec2' }] }, reason: 'Unrecognized match type contains', path: '$.source[0].contains' },
  { name: 'an empty match expression', source: COMPILER, pattern: { source: [{}] }, reason: 'Match expression name not found', path: '$.source[0]' },
  { name: 'two operators in one expression', source: COMPILER, pattern: { source: [{ prefix: 'aws.', suffix: 'ec2' }] }, reason: 'Only one key allowed in match expression', path: '$.source[0]' },
  { name: 'prefix of a number', source: RECORDED, pattern: { time: [{ prefix: 123 }] }, reason: 'prefix match pattern must be a string', path: '$.time[0].prefix' },
  { name: 'prefix of a list', source: RECORDED, pattern: { time: [{ prefix: ['2022-07-13'] }] }, reason: 'prefix match pattern must be a string', path: '$.time[0].prefix' },
  { name: 'prefix with an unknown nested operator', source: COMPILER, pattern: { time: [{ prefix: { wildcard: '2022*' } }] }, reason: 'Unsupported prefix pattern: wildcard', path: '$.time[0].prefix.wildcard' },
  { name: 'suffix of a number', source: RECORDED, pattern: { FileName: [{ suffix: 123 }] }, reason: 'suffix match pattern must be a string', path: '$.FileName[0].suffix' },
  { name: 'equals-ignore-case of a list', source: RECORDED, pattern: { 'detail-type': [{ 'equals-ignore-case': ['ec2'] }] }, reason: 'equals-ignore-case match pattern must be a string', path: '$.detail-type[0].equals-ignore-case' },
  { name: 'wildcard of a number', source: RECORDED, pattern: { EventBusArn: [{ wildcard: 123 }] }, reason: 'wildcard match pattern must be a string', path: '$.EventBusArn[0].wildcard' },
  {
    name: 'two wildcards in a row',
    source: RECORDED,
    pattern: { EventBusArn: [{ wildcard: 'arn:aws:events:us-east-1:**:event-bus/*' }] },
    reason: 'Consecutive wildcard characters at pos 26',
    path: '$.EventBusArn[0].wildcard',
  },
  { name: 'a backslash escaping neither * nor \\', source: 'ruler:input/WildcardParser.java', pattern: { path: [{ wildcard: 'a\\b' }] }, reason: 'Invalid escape character at pos 2', path: '$.path[0].wildcard' },
  { name: 'anything-but null', source: RECORDED, pattern: { detail: { state: [{ 'anything-but': null }] } }, reason: 'Value of anything-but must be an array or single string/number value.', path: '$.detail.state[0].anything-but' },
  { name: 'anything-but a list holding null', source: RECORDED, pattern: { detail: { state: [{ 'anything-but': ['stopped', null] }] } }, reason: 'Inside anything but list, start|null|boolean is not supported.', path: '$.detail.state[0].anything-but[1]' },
  {
    name: 'anything-but a list mixing strings and numbers',
    source: `${COMPILER} and ${OPERATORS}#eb-filtering-anything-but ("lists that contain only strings, or only numbers")`,
    pattern: { detail: { state: [{ 'anything-but': ['stopped', 1] }] } },
    reason: 'Inside anything but list, either all values are number or string, mixed type is not supported',
    path: '$.detail.state[0].anything-but',
  },
  { name: 'anything-but an empty list', source: COMPILER, pattern: { detail: { state: [{ 'anything-but': [] }] } }, reason: 'Inside anything but list, either all values are number or string, mixed type is not supported', path: '$.detail.state[0].anything-but' },
  { name: 'anything-but an empty prefix', source: RECORDED, pattern: { detail: { FileName: [{ 'anything-but': { prefix: '' } }] } }, reason: 'Null prefix/suffix not allowed', path: '$.detail.FileName[0].anything-but.prefix' },
  { name: 'anything-but a numeric prefix', source: RECORDED, pattern: { detail: { state: [{ 'anything-but': { prefix: 123 } }] } }, reason: 'prefix/suffix match pattern must be a string', path: '$.detail.state[0].anything-but.prefix' },
  {
    name: 'anything-but prefix with equals-ignore-case, which AWS does not support',
    source: RECORDED,
    pattern: { detail: { FileName: [{ 'anything-but': { prefix: { 'equals-ignore-case': 'file' } } }] } },
    reason: 'Value of anything-but must be an array or single string/number value.',
    path: '$.detail.FileName[0].anything-but.prefix',
  },
  { name: 'anything-but equals-ignore-case of a number', source: RECORDED, pattern: { detail: { state: [{ 'anything-but': { 'equals-ignore-case': 123 } }] } }, reason: 'Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.', path: '$.detail.state[0].anything-but.equals-ignore-case' },
  { name: 'anything-but with an unsupported operator', source: COMPILER, pattern: { detail: { state: [{ 'anything-but': { numeric: ['>', 1] } }] } }, reason: 'Unsupported anything-but pattern: numeric', path: '$.detail.state[0].anything-but.numeric' },
  { name: 'anything-but wildcard list holding a number', source: RECORDED, pattern: { detail: { state: [{ 'anything-but': { wildcard: [123, '*/dir/*'] } }] } }, reason: 'wildcard match pattern must be a string', path: '$.detail.state[0].anything-but.wildcard[0]' },
  { name: 'numeric with a bare number', source: RECORDED, pattern: { detail: { 'c-count': [{ numeric: 10 }] } }, reason: 'Value of numeric must be an array.', path: '$.detail.c-count[0].numeric' },
  { name: 'numeric with two lower bounds', source: RECORDED, pattern: { detail: { 'c-count': [{ numeric: ['>', 0, '>', 0] }] } }, reason: 'Bad numeric range operator: >', path: '$.detail.c-count[0].numeric[2]' },
  { name: 'numeric with a missing upper bound', source: RECORDED, pattern: { detail: { 'c-count': [{ numeric: ['>', 0, '<'] }] } }, reason: 'Value of < must be numeric', path: '$.detail.c-count[0].numeric[3]' },
  { name: 'numeric with a string operand', source: COMPILER, pattern: { n: [{ numeric: ['<', '10'] }] }, reason: 'Value of < must be numeric', path: '$.n[0].numeric[1]' },
  { name: 'numeric with an unknown operator', source: COMPILER, pattern: { n: [{ numeric: ['!=', 10] }] }, reason: 'Unrecognized numeric range operator: !=', path: '$.n[0].numeric[0]' },
  { name: 'numeric with an empty list', source: COMPILER, pattern: { n: [{ numeric: [] }] }, reason: 'Invalid member in numeric match: ]', path: '$.n[0].numeric[0]' },
  { name: 'numeric with an upper bound first', source: COMPILER, pattern: { n: [{ numeric: ['<', 10, '>', 0] }] }, reason: 'Too many elements in numeric expression', path: '$.n[0].numeric[2]' },
  { name: 'numeric with an empty range', source: 'ruler:Range.java', pattern: { n: [{ numeric: ['>=', 5, '<=', 5] }] }, reason: 'Bottom must be less than top', path: '$.n[0].numeric' },
  { name: 'exists with a string', source: COMPILER, pattern: { n: [{ exists: 'true' }] }, reason: 'exists match pattern must be either true or false.', path: '$.n[0].exists' },
  { name: 'cidr without a mask', source: RECORDED, pattern: { detail: { sourceIPAddress: [{ cidr: 'bad-filter' }] } }, reason: "Malformed CIDR, one '/' required", path: '$.detail.sourceIPAddress[0].cidr' },
  { name: 'cidr with a non-numeric mask', source: RECORDED, pattern: { detail: { sourceIPAddress: [{ cidr: 'bad-/64filter' }] } }, reason: 'Malformed CIDR, mask bits must be an integer', path: '$.detail.sourceIPAddress[0].cidr' },
  { name: 'cidr of something that is not an address', source: RECORDED, pattern: { detail: { sourceIPAddress: [{ cidr: 'xx.11.xx/8' }] } }, reason: 'Nonstandard IP address: xx.11.xx', path: '$.detail.sourceIPAddress[0].cidr' },
  { name: 'cidr of an IPv6 look-alike', source: RECORDED, pattern: { detail: { sourceIPAddress: [{ cidr: 'xxxx:db8:1234:1a00::/64' }] } }, reason: 'Nonstandard IP address: xxxx:db8:1234:1a00::', path: '$.detail.sourceIPAddress[0].cidr' },
  { name: 'cidr with an octet over 255', source: 'ruler:CIDR.java', pattern: { ip: [{ cidr: '10.0.0.256/24' }] }, reason: 'Invalid IP address: 10.0.0.256', path: '$.ip[0].cidr' },
  { name: 'cidr with a list', source: RECORDED, pattern: { detail: { sourceIPAddress: [{ cidr: ['10.0.0.0/24'] }] } }, reason: 'prefix match pattern must be a string', path: '$.detail.sourceIPAddress[0].cidr' },
  { name: 'an IPv4 mask of 32 bits', source: 'ruler:CIDR.java', pattern: { ip: [{ cidr: '10.0.0.1/32' }] }, reason: 'IPv4 mask bits must be < 32', path: '$.ip[0].cidr' },
  { name: '$or that is not a list', source: COMPILER, pattern: { $or: { source: ['aws.ec2'] } }, reason: 'It must be an Array followed with $or.', path: '$.$or' },
  { name: '$or with one branch', source: COMPILER, pattern: { $or: [{ source: ['aws.ec2'] }] }, reason: 'There must have at least 2 Objects in $or relationship.', path: '$.$or' },
  { name: '$or holding a list', source: 'ruler:src/test/data/wrongOrRelationshipRules.json', pattern: { detail: { $or: [{ source: ['a'] }, [{ foo: ['wrong'] }]] } }, reason: 'Only JSON object is allowed in array of $or relationship.', path: '$.detail.$or[1]' },
  { name: '$or holding an operator instead of fields', source: 'ruler:README.md#the-or-primitive (reserved keywords)', pattern: { $or: [{ numeric: ['>', 1] }, { prefix: ['abc'] }] }, reason: 'numeric is Ruler reserved fieldName which cannot be used inside $or.', path: '$.$or[0].numeric' },
];

describe('matchesEventPattern', () => {
  const groups: [string, MatchCase[]][] = [
    ['exact values, null and empty strings', exactValues],
    ['arrays', arrays],
    ['prefix', prefix],
    ['suffix', suffix],
    ['equals-ignore-case', equalsIgnoreCase],
    ['anything-but', anythingBut],
    ['numeric', numeric],
    ['exists', exists],
    ['cidr', cidr],
    ['wildcard', wildcard],
    ['$or', or],
    ['field paths', paths],
  ];
  describe.each(groups)('%s', (_group, cases) => {
    it.each(cases)('$name', ({ pattern, event, matches }) => {
      // act
      const result = matchesEventPattern(pattern, event);

      // assess
      expect(result).toBe(matches);
    });
  });

  it('refuses an event that is not a JSON object', () => {
    expect(() => matchesEventPattern({ source: ['aws.ec2'] }, '{"source":"aws.ec2"}')).toThrow(TypeError);
  });
});

describe('compileEventPattern', () => {
  it('compiles once and routes many events, as the hub does', () => {
    // prepare: the documented complex example (docs:eb-event-patterns-content-based-filtering#eb-filtering-complex-example)
    const matches = compileEventPattern({
      time: [{ prefix: '2017-10-02' }],
      detail: {
        state: [{ 'anything-but': 'initializing' }],
        'c-count': [{ numeric: ['>', 0, '<=', 5] }],
        'd-count': [{ numeric: ['<', 10] }],
        'x-limit': [{ 'anything-but': [100, 200, 300] }],
      },
    });

    // act
    const results = [
      matches(rulerExample),
      matches({ ...rulerExample, detail: { ...rulerExample['detail'] as object, 'x-limit': 300 } }),
      matches({ ...rulerExample, time: '2017-10-03T00:00:00Z' }),
      matches(rulerExample),
    ];

    // assess
    expect(results).toEqual([true, false, false, true]);
  });

  it('throws the validation error at compile time, not per event', () => {
    expect(() => compileEventPattern({ source: 'aws.ec2' })).toThrow(InvalidEventPatternError);
  });
});

describe('validateEventPattern', () => {
  it.each(invalidPatterns)('refuses $name', ({ pattern, reason, path }) => {
    // act
    let thrown: unknown;
    try {
      validateEventPattern(pattern);
    } catch (error) {
      thrown = error;
    }

    // assess
    expect(thrown).toBeInstanceOf(InvalidEventPatternError);
    const error = thrown as InvalidEventPatternError;
    expect(error.reason).toBe(reason);
    expect(error.path).toBe(path);
    expect(error.code).toBe('InvalidEventPatternException');
    expect(error.message).toBe(`Event pattern is not valid. Reason: ${reason} (at ${path})`);
  });

  const validPatterns = [...exactValues, ...arrays, ...prefix, ...suffix, ...equalsIgnoreCase, ...anythingBut, ...numeric, ...exists, ...cidr, ...wildcard, ...or, ...paths];
  it.each(validPatterns)('accepts the pattern of "$name"', ({ pattern }) => {
    expect(() => validateEventPattern(pattern)).not.toThrow();
  });

  it('matchesEventPattern refuses an invalid pattern too', () => {
    expect(() => matchesEventPattern({ resources: [] }, ec2Terminated)).toThrow(InvalidEventPatternError);
  });
});

/** A small seeded generator, so property failures reproduce. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

function randomText(next: () => number, alphabet = 'aAbB*\\.-ß'): string {
  let text = '';
  const length = Math.floor(next() * 8);
  for (let index = 0; index < length; index++) {
    text += alphabet.charAt(Math.floor(next() * alphabet.length));
  }
  return text;
}

describe('properties', () => {
  const runs = 300;

  it('anything-but a string list is the complement of the exact list for every string', () => {
    const next = random(1);
    for (let run = 0; run < runs; run++) {
      const listed = [randomText(next), randomText(next)];
      const value = next() < 0.5 ? (listed[0] ?? '') : randomText(next);
      const exact = matchesEventPattern({ f: listed }, { f: value });
      const excluded = matchesEventPattern({ f: [{ 'anything-but': listed }] }, { f: value });
      expect(excluded, JSON.stringify({ listed, value })).toBe(!exact);
    }
  });

  it('numeric ranges agree with JavaScript comparison, and never match the same number as a string', () => {
    const next = random(2);
    for (let run = 0; run < runs; run++) {
      const low = Math.round((next() - 0.5) * 200) / 4;
      const high = low + Math.round(next() * 40 + 1) / 4;
      const value = Math.round((next() - 0.5) * 240) / 4;
      const pattern = { n: [{ numeric: ['>=', low, '<', high] }] };
      expect(matchesEventPattern(pattern, { n: value }), JSON.stringify({ low, high, value })).toBe(value >= low && value < high);
      expect(matchesEventPattern(pattern, { n: String(value) })).toBe(false);
    }
  });

  it('a wildcard made by starring parts of a string matches that string', () => {
    const next = random(3);
    for (let run = 0; run < runs; run++) {
      const text = randomText(next);
      let wildcardText = '';
      let endsWithWildcard = false;
      for (const character of text) {
        if (next() < 0.3) {
          if (!endsWithWildcard) {
            wildcardText += '*'; // stands for this character
          }
          endsWithWildcard = true;
        } else {
          wildcardText += character === '*' || character === '\\' ? `\\${character}` : character;
          endsWithWildcard = false;
        }
      }
      expect(matchesEventPattern({ f: [{ wildcard: wildcardText }] }, { f: text }), JSON.stringify({ wildcardText, text })).toBe(true);
    }
  });

  it('prefix and equals-ignore-case agree with startsWith and lower-casing on ASCII strings', () => {
    const next = random(4);
    for (let run = 0; run < runs; run++) {
      const start = randomText(next, 'aAbBc-');
      const value = next() < 0.5 ? start + randomText(next, 'aAbBc-') : randomText(next, 'aAbBc-');
      expect(matchesEventPattern({ f: [{ prefix: start }] }, { f: value })).toBe(value.startsWith(start));
      expect(matchesEventPattern({ f: [{ 'equals-ignore-case': start }] }, { f: value })).toBe(value.toLowerCase() === start.toLowerCase());
    }
  });
});
