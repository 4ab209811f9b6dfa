/**
 * The file-drop transports against real servers: the sandbox's FTP server (ftp-srv) and SFTP
 * server (ssh2), a local folder, and for S3 the AWS SDK against an HTTP endpoint answering
 * S3's documented error documents (no S3 runs here). Replies are classified as RFC 959 and
 * the SFTP draft say; a connection dropped mid-upload leaves no file the ERP would import.
 */
import { createServer, type Server } from 'node:http';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../../functions/core/errors.ts';
import { FtpTransport } from '../../functions/connectors/erp/file-drop/transports/ftp.ts';
import { LocalFolderTransport } from '../../functions/connectors/erp/file-drop/transports/local-folder.ts';
import { S3Transport } from '../../functions/connectors/erp/file-drop/transports/s3.ts';
import { SftpTransport } from '../../functions/connectors/erp/file-drop/transports/sftp.ts';
import type { FileTransport } from '../../functions/connectors/erp/file-drop/transports/transport.ts';
import { generateSshKeyPair } from '../../local/sandbox/file-drop/sftp-server.ts';
import { closedPort, failure, startFileDropTestExchange, TEST_CREDENTIALS, type FileDropTestExchange } from '../../local/sandbox/file-drop/test-exchange.ts';
import { uniqueRef } from '../contracts/erp-port-contract.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (content: Uint8Array): string => new TextDecoder().decode(content);

/** What every transport does the same way. */
function describeTransportBasics(name: string, open: () => FileTransport): void {
  describe(`${name}: the shared behaviour`, () => {
    it('writes, lists, reads, replaces, moves and deletes; a folder that is not there lists empty', async () => {
      const transport = open();
      const folder = uniqueRef('basics');
      expect(await transport.list(folder)).toEqual([]);
      await transport.write(`${folder}/a.csv`, bytes('first'));
      await transport.write(`${folder}/a.csv`, bytes('second, longer'));
      expect(text(await transport.read(`${folder}/a.csv`))).toBe('second, longer');
      expect((await transport.list(folder)).map((file) => [file.name, file.size])).toEqual([['a.csv', 14]]);
      await transport.write(`${folder}/done/a.csv`, bytes('older'));
      await transport.move(`${folder}/a.csv`, `${folder}/done/a.csv`);
      expect(await transport.list(folder)).toEqual([]);
      expect(text(await transport.read(`${folder}/done/a.csv`))).toBe('second, longer');
      await transport.delete(`${folder}/done/a.csv`);
      await transport.delete(`${folder}/done/a.csv`);
      expect(await transport.list(`${folder}/done`)).toEqual([]);
      await transport.close();
    });

    it('a file that is not there is a PermanentError file-not-found naming it, for read and move', async () => {
      const transport = open();
      for (const attempt of [transport.read('inbox/never-written.csv'), transport.move('inbox/never-written.csv', 'archive/x.csv')]) {
        const error = await failure(attempt);
        expect(error).toBeInstanceOf(PermanentError);
        expect((error as PermanentError).code).toBe('file-not-found');
        expect(error.message).toContain('never-written.csv');
      }
      await transport.close();
    });
  });
}

describe('FTP and SFTP against the sandbox', () => {
  let exchange: FileDropTestExchange;
  let ftpPort: number;
  let sftpPort: number;
  const keys = generateSshKeyPair();

  beforeAll(async () => {
    exchange = await startFileDropTestExchange({ authorizedKey: keys.publicKey });
    ftpPort = Number(new URL(exchange.sandbox.ftpUrl).port);
    sftpPort = Number(new URL(exchange.sandbox.sftpUrl).port);
  });
  afterAll(async () => {
    await exchange?.sandbox.close();
  });

  const ftp = (password: string = TEST_CREDENTIALS.password): FtpTransport =>
    new FtpTransport({ host: '127.0.0.1', port: ftpPort, basePath: '/', username: TEST_CREDENTIALS.username, password, secure: false, timeoutMs: 1_500 });
  const sftp = (overrides: Partial<ConstructorParameters<typeof SftpTransport>[0]> = {}): SftpTransport =>
    new SftpTransport({
      host: '127.0.0.1',
      port: sftpPort,
      basePath: '/',
      username: TEST_CREDENTIALS.username,
      password: TEST_CREDENTIALS.password,
      hostKeyFingerprint: exchange.sandbox.hostKeyFingerprint,
      timeoutMs: 1_500,
      ...overrides,
    });

  describeTransportBasics('FTP', () => ftp());
  describeTransportBasics('SFTP', () => sftp());

  describe('FTP replies', () => {
    it('421 (too many connections) is a RetryableError, and the next call reconnects', async () => {
      const transport = ftp();
      await transport.list('inbox');
      exchange.sandbox.injectFault({ kind: '429', operation: 'LIST' });
      const error = await failure(transport.list('inbox'));
      expect(error).toBeInstanceOf(RetryableError);
      expect((error as RetryableError).code).toBe('ftp-421');
      expect(await transport.list('outbox')).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'ITEMS.csv' })]));
      await transport.close();
    });

    it('421 as the greeting of a new connection is a RetryableError', async () => {
      exchange.sandbox.injectFault({ kind: '429', operation: 'connect' });
      const error = await failure(ftp().list('inbox'));
      expect(error).toBeInstanceOf(RetryableError);
      expect(error.message).toContain('421');
    });

    it('451 (local error in processing) is a RetryableError', async () => {
      const transport = ftp();
      exchange.sandbox.injectFault({ kind: '500', operation: 'RETR' });
      const error = await failure(transport.read('outbox/ITEMS.csv'));
      expect(error).toBeInstanceOf(RetryableError);
      expect((error as RetryableError).code).toBe('ftp-451');
      expect(text(await transport.read('outbox/ITEMS.csv'))).toContain('WIDGET-1');
      await transport.close();
    });

    it('530 (login incorrect) is a PermanentError that names the credentials', async () => {
      const error = await failure(ftp('wrong-password').list('inbox'));
      expect(error).toBeInstanceOf(PermanentError);
      expect((error as PermanentError).code).toBe('auth');
      expect(error.message).toMatch(/530.*login refused|login refused.*530/);
      expect(error.message).toContain('username and password');
    });

    it('a server that never answers is a RetryableError after the timeout, and the next call works', async () => {
      const transport = ftp();
      exchange.sandbox.injectFault({ kind: 'timeout', operation: 'LIST' });
      const error = await failure(transport.list('inbox'));
      expect(error).toBeInstanceOf(RetryableError);
      expect(await transport.list('inbox')).toBeInstanceOf(Array);
      await transport.close();
    }, 15_000);

    it('a server that is not there is a RetryableError', async () => {
      const error = await failure(new FtpTransport({ host: '127.0.0.1', port: await closedPort(), basePath: '/', username: 'u', password: 'p', secure: false, timeoutMs: 1_500 }).list('inbox'));
      expect(error).toBeInstanceOf(RetryableError);
      expect(error.message).toContain('connection failed');
    });
  });

  describe('a connection dropped mid-upload', () => {
    const inbox = (): string => join(exchange.sandbox.root, 'inbox');
    const parts = async (): Promise<string[]> => (await readdir(inbox())).filter((name) => name.endsWith('.part'));
    const finals = async (): Promise<string[]> => (await readdir(inbox())).filter((name) => !name.endsWith('.part'));

    async function customerAndDraft() {
      const erp = exchange.adapter('ftp');
      const customer = await erp.upsertCustomer({ externalId: uniqueRef('crm:company'), kind: 'company', name: 'Dropped Connection GmbH' });
      await exchange.sandbox.process();
      const draft = { externalRef: uniqueRef('crm:deal'), customerId: customer.customerId, currency: 'EUR', lines: [{ sku: 'GADGET-2', name: 'Gadget', quantity: 1, unitPrice: 120 }] };
      return { erp, draft, partsBefore: await parts() };
    }

    it('leaves no file the ERP imports: half the bytes stay under the temporary name, and the retry makes exactly one order', async () => {
      const { erp, draft, partsBefore } = await customerAndDraft();
      // Two drops: the one on the kept connection and the one on the connection opened to try again.
      exchange.sandbox.injectFault({ kind: 'commit-then-drop', operation: 'STOR', count: 2 });
      const error = await failure(erp.createSalesOrder(draft));
      expect(error).toBeInstanceOf(RetryableError);
      // Both tries wrote the same temporary name: one half file, never under the final name.
      const halves = (await parts()).filter((name) => !partsBefore.includes(name));
      expect(halves).toHaveLength(1);
      expect((await readFile(join(inbox(), halves[0]!))).length).toBeGreaterThan(0);
      expect(await finals()).toEqual([]);
      expect((await exchange.sandbox.process()).imported).toEqual([]);

      const order = await erp.createSalesOrder(draft);
      expect((await exchange.sandbox.process()).imported).toEqual([`ORDER_${order.id}.csv`]);
      expect(exchange.sandbox.store.openOrder(draft.externalRef)).toMatchObject({ status: 'ACCEPTED' });
      expect(await erp.createSalesOrder(draft)).toMatchObject({ id: order.id, reference: expect.stringMatching(/^AB-/) });
      expect((await exchange.sandbox.process()).imported).toEqual([]);
    });

    it('a kept connection that drops is reopened once and the upload made whole under the same temporary name', async () => {
      const { erp, draft, partsBefore } = await customerAndDraft();
      exchange.sandbox.injectFault({ kind: 'commit-then-drop', operation: 'STOR', count: 1 });
      const order = await erp.createSalesOrder(draft);
      expect((await parts()).filter((name) => !partsBefore.includes(name))).toEqual([]);
      expect(await finals()).toEqual([`ORDER_${order.id}.csv`]);
      expect((await exchange.sandbox.process()).imported).toEqual([`ORDER_${order.id}.csv`]);
    });
  });

  describe('SFTP', () => {
    it('logs in with a private key instead of the password', async () => {
      const transport = sftp({ password: undefined, privateKey: keys.privateKey });
      expect((await transport.list('outbox')).map((file) => file.name)).toContain('CUSTOMERS.csv');
      await transport.close();
    });

    it('a refused login is a PermanentError that says so', async () => {
      const error = await failure(sftp({ password: 'wrong-password' }).list('inbox'));
      expect(error).toBeInstanceOf(PermanentError);
      expect((error as PermanentError).code).toBe('auth');
      expect(error.message).toContain('login refused');
    });

    it('a server showing another host key is refused before any credential is sent', async () => {
      const error = await failure(sftp({ hostKeyFingerprint: `SHA256:${'A'.repeat(43)}` }).list('inbox'));
      expect(error).toBeInstanceOf(PermanentError);
      expect((error as PermanentError).code).toBe('host-key');
    });

    it('a FAILURE status is a RetryableError and the connection carries on', async () => {
      const transport = sftp();
      exchange.sandbox.injectFault({ kind: '500', operation: 'sftp:OPENDIR' });
      expect(await failure(transport.list('outbox'))).toBeInstanceOf(RetryableError);
      expect((await transport.list('outbox')).length).toBeGreaterThan(0);
      await transport.close();
    });
  });
});

describe('local folder', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'harmony-file-drop-folder-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });
  describeTransportBasics('local folder', () => new LocalFolderTransport(root, 1_500));

  it('refuses paths that leave the exchange folder', async () => {
    await expect(new LocalFolderTransport(root, 1_500).read('../etc/passwd')).rejects.toThrow('leaves');
  });
});

describe('S3 (the SDK against an endpoint answering S3 error documents)', () => {
  let server: Server;
  let endpoint: string;
  const answers: { status: number; fixture: string }[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        const answer = answers.shift() ?? { status: 500, fixture: 's3-error-slow-down.xml' };
        void readFile(new URL(`../fixtures/file-drop/${answer.fixture}`, import.meta.url)).then((body) => {
          response.writeHead(answer.status, { 'content-type': 'application/xml', 'x-amz-request-id': '4442587FB7D0A2F9' });
          response.end(body);
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const s3 = (at: string = endpoint): S3Transport =>
    new S3Transport({ bucket: 'acme-erp-exchange', prefix: 'harmony', endpoint: at, region: 'eu-central-1', accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', timeoutMs: 1_500 });

  it('NoSuchKey on a read is a PermanentError file-not-found', async () => {
    answers.push({ status: 404, fixture: 's3-error-no-such-key.xml' });
    const error = await failure(s3().read('outbox/STATUS_1.csv'));
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as PermanentError).code).toBe('file-not-found');
  });

  it('AccessDenied is a PermanentError naming the credentials; SlowDown is a RetryableError', async () => {
    answers.push({ status: 403, fixture: 's3-error-access-denied.xml' });
    const denied = await failure(s3().list('inbox'));
    expect(denied).toBeInstanceOf(PermanentError);
    expect((denied as PermanentError).code).toBe('auth');
    answers.push({ status: 503, fixture: 's3-error-slow-down.xml' });
    expect(await failure(s3().write('inbox/ORDER_1.csv', bytes('x')))).toBeInstanceOf(RetryableError);
  });

  it('an endpoint that is not there is a RetryableError', async () => {
    expect(await failure(s3(`http://127.0.0.1:${await closedPort()}`).list('inbox'))).toBeInstanceOf(RetryableError);
  });
});
