/** The Harmony CDK app (`cdk.json` runs it): `npx cdk synth`, `npx cdk deploy -c alarmEmail=ops@example.com`. */
import { App } from 'aws-cdk-lib';
import { buildHarmony } from '../lib/harmony-app.ts';

const app = new App();
buildHarmony(app);
app.synth();
