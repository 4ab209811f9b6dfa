/**
 * Pipedrive webhooks v2: the basic auth check, the payload schema against the guide's example
 * and a recorded delivery, and which deliveries are a won deal.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  PipedriveWebhook,
  checkPipedriveBasicAuth,
  isDealWon,
  toHubEvent,
} from '../../functions/connectors/crm/pipedrive/webhook.ts';
import { CRM_OBJECT_CHANGED, CrmObjectChangedDetail, DEAL_STAGE_CHANGED, DealStageChangedDetail, WON_DEAL_STAGE } from '../../functions/core/events.ts';

const fixture = (name: string): Record<string, any> =>
  JSON.parse(readFileSync(new URL(`../fixtures/pipedrive/${name}`, import.meta.url), 'utf8')) as Record<string, any>;

const CREDENTIALS = { user: 'harmony', password: 'p4ss:word with spaces' };
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;

describe('Pipedrive basic auth', () => {
  it('accepts the credentials the webhook was created with, whatever the scheme word case', () => {
    expect(checkPipedriveBasicAuth(basic(CREDENTIALS.user, CREDENTIALS.password), CREDENTIALS)).toBeUndefined();
    expect(checkPipedriveBasicAuth(basic(CREDENTIALS.user, CREDENTIALS.password).replace('Basic', 'basic'), CREDENTIALS)).toBeUndefined();
  });

  it.each([
    ['no header', undefined, 'missing-credentials'],
    ['an empty header', '', 'missing-credentials'],
    ['a bearer token', 'Bearer abc.def.ghi', 'not-basic-auth'],
    ['basic without credentials', 'Basic', 'malformed-credentials'],
    ['credentials without a colon', `Basic ${Buffer.from('harmony').toString('base64')}`, 'malformed-credentials'],
    ['credentials that are not base64', 'Basic !!!', 'malformed-credentials'],
    ['the wrong password', basic('harmony', 'guess'), 'bad-credentials'],
    ['the wrong user', basic('admin', CREDENTIALS.password), 'bad-credentials'],
    ['user and password swapped', basic(CREDENTIALS.password, CREDENTIALS.user), 'bad-credentials'],
    ['the password with a trailing space', basic(CREDENTIALS.user, `${CREDENTIALS.password} `), 'bad-credentials'],
    ['an empty password', basic(CREDENTIALS.user, ''), 'bad-credentials'],
    ['the user and password run together', basic(`${CREDENTIALS.user}${CREDENTIALS.password}`, ''), 'bad-credentials'],
  ])('refuses %s', (_name, header, reason) => {
    expect(checkPipedriveBasicAuth(header, CREDENTIALS)).toBe(reason);
  });

  it('splits at the first colon: the password may hold colons, the user may not', () => {
    expect(checkPipedriveBasicAuth(basic('har', 'mony:p4ss:word with spaces'), CREDENTIALS)).toBe('bad-credentials');
  });
});

describe('Pipedrive webhook v2 payloads', () => {
  it('parses the example of the guide and the recorded delivery', () => {
    expect(PipedriveWebhook.safeParse(fixture('webhook-v2-guide-format.json')).success).toBe(true);
    const recorded = PipedriveWebhook.parse(fixture('webhook-v2-deal-change-recorded.json'));
    expect(recorded.meta).toMatchObject({ id: '1', entity_id: '1', company_id: '12882925', timestamp: '2024-09-27T14:25:28.000Z' });
  });

  it('refuses a v1 webhook, naming meta.version', () => {
    const v1 = { ...fixture('webhook-v2-deal-won.json'), meta: { ...fixture('webhook-v2-deal-won.json').meta, version: '1.0' } };
    const parsed = PipedriveWebhook.safeParse(v1);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(['meta', 'version']);
  });

  it.each([
    ['meta.id', { id: undefined }],
    ['meta.entity_id', { entity_id: 'a b' }],
    ['meta.company_id', { company_id: -1 }],
    ['meta.timestamp', { timestamp: 'yesterday' }],
    ['meta.timestamp', { timestamp: 253402300800 }],
    ['meta.action', { action: 'Change' }],
  ])('refuses a delivery with a bad %s', (path, change) => {
    const won = fixture('webhook-v2-deal-won.json');
    const parsed = PipedriveWebhook.safeParse({ ...won, meta: { ...won.meta, ...change } });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((issue) => issue.path.join('.'))).toContain(path);
  });
});

describe('a won deal', () => {
  const won = () => PipedriveWebhook.parse(fixture('webhook-v2-deal-won.json'));

  it('becomes the canonical Deal Stage Changed event HubSpot gives for closedwon, keyed by the Pipedrive event id', () => {
    const event = toHubEvent(won());
    expect(event.eventId).toBe('pipedrive:9b2e4c1d-7f3a-4e5b-8c6d-0a1b2c3d4e5f');
    expect(event.detailType).toBe(DEAL_STAGE_CHANGED);
    expect(DealStageChangedDetail.strict().parse(event.detail)).toEqual({
      crm: 'pipedrive',
      accountId: '12882925',
      dealId: '746',
      stage: WON_DEAL_STAGE,
      occurredAt: '2026-05-15T18:00:00.000Z',
      eventId: '9b2e4c1d-7f3a-4e5b-8c6d-0a1b2c3d4e5f',
    });
  });

  it('is a deal created as won', () => {
    const created = { ...won(), meta: { ...won().meta, action: 'create' }, previous: null };
    expect(isDealWon(created)).toBe(true);
  });

  it.each([
    ['a change that leaves a won deal won (status not among the changed fields)', (webhook: PipedriveWebhook) => ({ ...webhook, previous: { value: 1000 } })],
    ['a change from won to won', (webhook: PipedriveWebhook) => ({ ...webhook, previous: { status: 'won' } })],
    ['a change to lost', (webhook: PipedriveWebhook) => ({ ...webhook, data: { ...webhook.data, status: 'lost' } })],
    ['a change without previous', (webhook: PipedriveWebhook) => ({ ...webhook, previous: null })],
    ['a deleted won deal', (webhook: PipedriveWebhook) => ({ ...webhook, meta: { ...webhook.meta, action: 'delete' }, data: null, previous: { status: 'won' } })],
    ['a lead whose status became won', (webhook: PipedriveWebhook) => ({ ...webhook, meta: { ...webhook.meta, entity: 'lead' } })],
  ])('is not %s', (_name, alter) => {
    const webhook = alter(won());
    expect(isDealWon(webhook)).toBe(false);
    expect(toHubEvent(webhook).detailType).toBe(CRM_OBJECT_CHANGED);
  });
});

describe('every other delivery', () => {
  it('becomes CRM Object Changed in Harmony words, keeping Pipedrive object names, whatever other entities hold in status', () => {
    const event = toHubEvent(PipedriveWebhook.parse(fixture('webhook-v2-person-delete.json')));
    expect(event.eventId).toBe('pipedrive:5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a');
    expect(CrmObjectChangedDetail.strict().parse(event.detail)).toEqual({
      crm: 'pipedrive',
      accountId: '12882925',
      objectType: 'person',
      objectId: '3',
      changeType: 'deleted',
      occurredAt: '2026-05-15T18:05:00.000Z',
      eventId: '5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a',
    });
    const won = fixture('webhook-v2-deal-won.json');
    const activity = { ...won, meta: { ...won.meta, entity: 'activity' }, data: { done: true, status: null }, previous: { done: false, status: 3 } };
    expect(toHubEvent(PipedriveWebhook.parse(activity)).detail).toMatchObject({ objectType: 'activity', changeType: 'propertyChanged' });
    const recorded = toHubEvent(PipedriveWebhook.parse(fixture('webhook-v2-deal-change-recorded.json')));
    expect(recorded.detail).toMatchObject({ objectType: 'deal', changeType: 'propertyChanged', objectId: '1' });
  });
});
