/**
 * The local hub in its own process, so the chaos harness can `kill -9` it: reads the
 * hub's settings from the environment (the sandboxes run elsewhere: HARMONY_SANDBOXES
 * is false, HUBSPOT_BASE_URL and ODOO_URL point at them), starts it, and prints one
 * JSON line with its URLs once it is ready. The hub's progress lines (messages released at a
 * restart, say) go to stderr, which the supervisor keeps for a post-mortem.
 */
import { readHubEnvironment } from '../../local/config.ts';
import { startHub } from '../../local/hub.ts';

const hub = await startHub({ environment: readHubEnvironment(), log: (line) => process.stderr.write(`[hub] ${line}\n`), onAlarm: () => undefined });
process.stdout.write(`${JSON.stringify({ ready: true, awsEndpoint: hub.awsEndpoint, ingressUrl: hub.ingressUrl })}\n`);
process.once('SIGTERM', () => {
  void hub.stop().then(() => process.exit(0));
});
