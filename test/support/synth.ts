/**
 * Synthesizes the whole Harmony app the way `cdk synth` does (same context from cdk.json,
 * same `buildHarmony`, cdk-nag registered), but with Lambda bundling skipped so tests are fast,
 * and with validation findings returned instead of failing the synth.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { PROJECT_ROOT } from '../../lib/constructs/harmony-function.ts';
import { buildHarmony } from '../../lib/harmony-app.ts';
import type { HarmonyStack } from '../../lib/harmony-stack.ts';

/** One unacknowledged validation finding (cdk-nag rule, or another validation plugin's). */
export interface ValidationFinding {
  /** Plugin that reported it, e.g. `AwsSolutions`. */
  readonly plugin: string;
  /** Rule id, with the finding for per-finding rules, e.g. `AwsSolutions-IAM5[Resource::*]`. */
  readonly rule: string;
  readonly severity: string;
  readonly description: string;
  /** Construct paths of the resources it concerns. */
  readonly paths: readonly string[];
}

/** What `synthHarmony` gives back. */
export interface HarmonySynth {
  readonly app: App;
  readonly stack: HarmonyStack;
  readonly template: Template;
  /** The CloudFormation template. */
  readonly json: { readonly Resources: Record<string, CfnResourceJson>; readonly [key: string]: unknown };
  /** Unacknowledged findings with severity error (cdk-nag and any other validation plugin). */
  readonly nagErrors: readonly ValidationFinding[];
  /** Unacknowledged findings with severity warning. */
  readonly nagWarnings: readonly ValidationFinding[];
}

/** A resource of the synthesized template. */
export interface CfnResourceJson {
  readonly Type: string;
  readonly Properties?: Record<string, any>;
  readonly Metadata?: Record<string, any>;
  readonly [key: string]: unknown;
}

/** The context `cdk synth` reads from cdk.json (feature flags and Harmony defaults). */
function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  return cdkJson.context ?? {};
}

/**
 * Builds and synthesizes Harmony with `context` on top of cdk.json's, bundling skipped.
 * Throws what `cdk synth` would throw for invalid context.
 */
export function synthHarmony(context: Readonly<Record<string, unknown>> = {}): HarmonySynth {
  const outdir = mkdtempSync(join(tmpdir(), 'harmony-synth-'));
  try {
    const app = new App({
      outdir,
      context: {
        ...cdkJsonContext(),
        // No esbuild runs: assets get a placeholder hash (what `cdk synth --exclusively` does for other stacks).
        'aws:cdk:bundling-stacks': [],
        // Report findings in the validation report instead of throwing, so tests can assert on them.
        [cxapi.FAIL_SYNTH_ON_VALIDATION_ERRORS_CONTEXT]: false,
        ...context,
      },
    });
    const stack = buildHarmony(app);
    const assembly = app.synth();
    const json = assembly.getStackArtifact(stack.artifactId).template as HarmonySynth['json'];
    const findings = readFindings(join(assembly.directory, cxapi.VALIDATION_REPORT_FILE));
    return {
      app,
      stack,
      template: Template.fromJSON(json),
      json,
      nagErrors: findings.filter((finding) => finding.severity === 'error' || finding.severity === 'fatal'),
      nagWarnings: findings.filter((finding) => finding.severity !== 'error' && finding.severity !== 'fatal'),
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** The unacknowledged violations in CDK's validation report (cdk-nag v3 reports there, not as annotations). */
function readFindings(reportFile: string): ValidationFinding[] {
  if (!existsSync(reportFile)) return [];
  const report = JSON.parse(readFileSync(reportFile, 'utf8')) as ValidationReportJson;
  return (report.pluginReports ?? []).flatMap((pluginReport) =>
    (pluginReport.violations ?? []).map((violation) => ({
      plugin: pluginReport.pluginName,
      rule: violation.ruleName,
      severity: violation.severity ?? 'error',
      description: violation.description,
      paths: (violation.violatingConstructs ?? []).map((construct) => construct.constructPath),
    })),
  );
}

/** The parts of `validation-report.json` read here. */
interface ValidationReportJson {
  readonly pluginReports?: readonly {
    readonly pluginName: string;
    readonly violations?: readonly {
      readonly ruleName: string;
      readonly description: string;
      readonly severity?: string;
      readonly violatingConstructs?: readonly { readonly constructPath: string }[];
    }[];
  }[];
}
