/**
 * A NetSuite sandbox account for tests: started on a free port in its own data directory
 * with freshly generated M2M keys (RSA for PS256, or EC P-256 for ES256) and TBA secrets,
 * plus the connector settings and secrets that reach it and helpers for the sandbox's
 * control routes (faults, token expiry, the async queue, stored records).
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FaultRequest } from '../faults.ts';
import { startNetsuiteSandbox, type NetsuiteSandbox } from './server.ts';

/** A running test account. */
export interface NetsuiteTestAccount {
  /** The running sandbox (a new one after {@link NetsuiteTestAccount.restart}). */
  readonly sandbox: NetsuiteSandbox;
  readonly dataDir: string;
  /** Connector settings (`NETSUITE_*`) for the given auth scheme. */
  settings(auth: 'oauth2' | 'tba'): Record<string, string>;
  /** Secret fields, by field name, that the sandbox accepts. */
  readonly secrets: Readonly<Record<string, string>>;
  /** The same secrets with a private key and a token secret the sandbox does not know. */
  readonly wrongSecrets: Readonly<Record<string, string>>;
  injectFault(fault: Partial<FaultRequest> & Pick<FaultRequest, 'kind'>): Promise<void>;
  clearFaults(): Promise<void>;
  expireTokens(): Promise<void>;
  /** Holds (or releases and runs) the asynchronous job queue. */
  holdJobs(hold: boolean): Promise<void>;
  jobs(): Promise<{ id: number; idempotencyKey?: string; method: string; path: string; state: string }[]>;
  /** Stored records of a type, in the sandbox's own field names. */
  records(type: string): Promise<Record<string, unknown>[]>;
  /** Stops the sandbox and starts it again on the same data directory and credentials (on a new port). */
  restart(): Promise<void>;
  /** Stops the sandbox and removes its data directory. */
  close(): Promise<void>;
}

function privateKeyPem(keyType: 'rsa' | 'ec'): string {
  const pair = keyType === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** Starts a sandbox account whose M2M certificate has a `keyType` key. */
export async function startNetsuiteTestAccount(options: { readonly keyType?: 'rsa' | 'ec'; readonly dataDir?: string } = {}): Promise<NetsuiteTestAccount> {
  const keyType = options.keyType ?? 'ec';
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'harmony-netsuite-'));
  const privateKey = privateKeyPem(keyType);
  const accountId = '7654321_SB1';
  const secrets = {
    clientId: `client-${randomBytes(8).toString('hex')}`,
    certificateId: `cert-${randomBytes(8).toString('hex')}`,
    privateKey,
    consumerKey: `ck-${randomBytes(16).toString('hex')}`,
    consumerSecret: `cs-${randomBytes(16).toString('hex')}`,
    tokenId: `tk-${randomBytes(16).toString('hex')}`,
    tokenSecret: `ts-${randomBytes(16).toString('hex')}`,
  };
  const start = (): Promise<NetsuiteSandbox> =>
    startNetsuiteSandbox({
      dataDir,
      accountId,
      clientCredentials: { clientId: secrets.clientId, certificateId: secrets.certificateId, publicKey: privateKey },
      tokenBased: secrets,
    });
  let sandbox = await start();
  const control = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const response = await fetch(`${sandbox.url}${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    if (!response.ok) throw new Error(`sandbox ${method} ${path}: HTTP ${response.status} ${await response.text()}`);
    const text = await response.text();
    return text === '' ? undefined : JSON.parse(text);
  };
  return {
    get sandbox() {
      return sandbox;
    },
    dataDir,
    settings: (auth) => ({ NETSUITE_ACCOUNT_ID: accountId, NETSUITE_BASE_URL: sandbox.url, NETSUITE_SUBSIDIARY_ID: '1', NETSUITE_AUTH: auth }),
    secrets,
    wrongSecrets: { ...secrets, privateKey: privateKeyPem(keyType), tokenSecret: `ts-${randomBytes(16).toString('hex')}` },
    injectFault: async (fault) => void (await control('POST', '/__sandbox/faults', fault)),
    clearFaults: async () => void (await control('DELETE', '/__sandbox/faults')),
    expireTokens: async () => void (await control('POST', '/__sandbox/expire-tokens')),
    holdJobs: async (hold) => void (await control('POST', '/__sandbox/async-jobs', { hold })),
    jobs: async () => ((await control('GET', '/__sandbox/async-jobs')) as { jobs: [] }).jobs,
    records: async (type) => (await control('GET', `/__sandbox/records/${type}`)) as Record<string, unknown>[],
    restart: async () => {
      await sandbox.close();
      sandbox = await start();
    },
    close: async () => {
      await sandbox.close();
      if (options.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
