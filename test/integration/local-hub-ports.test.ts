/** Starting the hub on a port something else holds fails at once with the variable to change. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readHubEnvironment } from '../../local/config.ts';
import { startHub } from '../../local/hub.ts';

describe('the local hub on a taken port', () => {
  it.each([
    ['HARMONY_INGRESS_PORT'],
    ['HARMONY_AWS_PORT'],
    ['HARMONY_ODOO_PORT'],
  ])('names %s when that port is taken', async (variable) => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const taken = String((squatter.address() as AddressInfo).port);
    const dataDir = mkdtempSync(join(tmpdir(), 'harmony-ports-'));
    try {
      const environment = readHubEnvironment({
        HARMONY_DATA_DIR: dataDir,
        HARMONY_AWS_PORT: '0',
        HARMONY_INGRESS_PORT: '0',
        HARMONY_HUBSPOT_PORT: '0',
        HARMONY_ODOO_PORT: '0',
        [variable]: taken,
      });

      const starting = startHub({ environment, log: () => undefined });

      await expect(starting).rejects.toThrow(new RegExp(`port ${taken} .*already taken.*set ${variable}`));
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
