/**
 * `npm start`: the whole Harmony hub on this machine. Prints where everything
 * listens, what it does not emulate, and how long start-up took; stops cleanly
 * on Ctrl-C.
 */
import { readHubEnvironment } from './config.ts';
import { startHub } from './hub.ts';

const environment = readHubEnvironment();
try {
  const hub = await startHub({ environment, log: (line) => console.log(`[harmony] ${line}`) });
  console.log(
    [
      '',
      `Harmony is ready in ${(hub.startupMs / 1000).toFixed(2)} s${hub.synthCached ? ' (template from cache)' : ''}.`,
      `  webhooks      ${hub.ingressUrl}/webhooks/{source}   health: ${hub.ingressUrl}/health`,
      `  AWS endpoint  ${hub.awsEndpoint}   (AWS_ENDPOINT_URL=${hub.awsEndpoint} for the AWS CLI and SDKs)`,
      ...(hub.hubspotUrl === undefined ? [] : [`  sandbox CRM   ${hub.hubspotUrl}   (HubSpot-compatible)`]),
      ...(hub.odooUrl === undefined ? [] : [`  sandbox ERP   ${hub.odooUrl}   (Odoo-compatible)`]),
      ...[...hub.sandboxes].map(([system, sandbox]) => `  sandbox       ${sandbox.url}   (${system}-compatible)`),
      `  data          ${hub.dataDir}`,
      '',
      'Not emulated locally (named, not ignored):',
      ...hub.unemulated.map((line) => `  - ${line}`),
      '',
      'Try it: npm run demo',
    ].join('\n'),
  );
  const shutdown = (signal: string) => {
    console.log(`\n[harmony] ${signal}: stopping…`);
    hub.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
} catch (error) {
  console.error(`[harmony] could not start: ${(error as Error).message}`);
  process.exit(1);
}
