/**
 * The local hub in its own process, so the chaos harness can `kill -9` it: reads the
 * hub's settings from the environment, starts it, and prints one JSON line with its
 * URLs once it is ready.
 */
import { readHubEnvironment } from '../../local/config.ts';
import { startHub } from '../../local/hub.ts';

const hub = await startHub({ environment: readHubEnvironment(), log: () => undefined, onAlarm: () => undefined });
process.stdout.write(
  `${JSON.stringify({ ready: true, awsEndpoint: hub.awsEndpoint, ingressUrl: hub.ingressUrl, hubspotUrl: hub.hubspotUrl, odooUrl: hub.odooUrl })}\n`,
);
process.once('SIGTERM', () => {
  void hub.stop().then(() => process.exit(0));
});
