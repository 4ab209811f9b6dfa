/**
 * Builds Harmony into a CDK app: validated context → HarmonyStack, with cdk-nag's AwsSolutions
 * checks registered so that any unacknowledged finding fails the synth. `bin/app.ts` and the
 * infrastructure tests both go through here, so tests synthesize exactly what `cdk synth` does.
 */
import { type App, Tags, Validations } from 'aws-cdk-lib';
import cdkNag from 'cdk-nag';
import { readHarmonyContext } from './harmony-context.ts';
import { HarmonyStack } from './harmony-stack.ts';

/**
 * Reads and validates the context, creates the stack (environment-agnostic: no account or
 * region, so it synthesizes offline) and registers cdk-nag.
 * @throws Error naming each invalid context key.
 */
export function buildHarmony(app: App): HarmonyStack {
  const context = readHarmonyContext(app.node);
  const stack = new HarmonyStack(app, context.stackName, {
    crm: context.crm,
    erp: context.erp,
    triggerSettings: { wonDealStages: context.wonDealStages },
    deletionProtection: context.deletionProtection,
    inboundSources: context.inboundSources,
    crmSettings: context.crmSettings,
    erpSettings: context.erpSettings,
    ...(context.hubspotBaseUrl === undefined ? {} : { hubspotBaseUrl: context.hubspotBaseUrl }),
    ...(context.odoo === undefined ? {} : { odoo: context.odoo }),
    ...(context.alarmEmail === undefined ? {} : { alarmEmail: context.alarmEmail }),
    ...(context.slack === undefined ? {} : { slackChannel: context.slack }),
  });
  Tags.of(stack).add('app', 'harmony');
  // cdk-nag v3 is a policy-validation plugin: findings fail the synth unless acknowledged on the
  // resource with a reason; the acknowledgements are also written to the template as an audit trail.
  Validations.of(app).addPlugins(
    new cdkNag.AwsSolutionsChecks(app, { verbose: true, writeSuppressionsToCloudFormation: true }),
  );
  return stack;
}
