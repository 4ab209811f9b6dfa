/**
 * Synthesizes the Harmony CDK app for the local hub — the same app `cdk synth`
 * runs, with cdk.json's context — and caches the template by a hash of
 * everything that shapes it, so a restart with no change does not re-synth.
 * Bundling is skipped: locally the handler modules run from source.
 */
import { App } from 'aws-cdk-lib';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { buildHarmony } from '../lib/harmony-app.ts';
import type { CloudFormationTemplate } from './template/load-template.ts';
import { parseTemplate } from './template/load-template.ts';

/** Folders and files whose content decides the template. */
const INPUTS = ['bin', 'lib', 'flows', 'functions', 'cdk.json', 'package-lock.json'];

function filesUnder(root: string, path: string): string[] {
  const full = join(root, path);
  if (!existsSync(full)) return [];
  if (statSync(full).isFile()) return [path];
  return readdirSync(full)
    .sort()
    .flatMap((name) => filesUnder(root, join(path, name)));
}

/** Hash of the app's inputs and the extra context. */
export function synthInputHash(projectRoot: string, context: Readonly<Record<string, unknown>>): string {
  const hash = createHash('sha256');
  for (const file of INPUTS.flatMap((input) => filesUnder(projectRoot, input))) {
    hash.update(relative(projectRoot, join(projectRoot, file)));
    hash.update('\0');
    hash.update(readFileSync(join(projectRoot, file)));
    hash.update('\0');
  }
  hash.update(JSON.stringify(context));
  return hash.digest('hex').slice(0, 24);
}

/** The synthesized template and whether it came from the cache. */
export interface SynthResult {
  readonly template: CloudFormationTemplate;
  readonly cached: boolean;
  readonly hash: string;
  readonly stackName: string;
}

/** Returns the cached template for the current inputs, synthesizing (and caching) it when there is none. */
export function synthesizeCached(options: {
  readonly projectRoot: string;
  readonly cacheDir: string;
  readonly context?: Readonly<Record<string, unknown>>;
}): SynthResult {
  const context = options.context ?? {};
  const hash = synthInputHash(options.projectRoot, context);
  const file = join(options.cacheDir, `${hash}.template.json`);
  if (existsSync(file)) {
    const cached = JSON.parse(readFileSync(file, 'utf8')) as { stackName: string; template: unknown };
    return { template: parseTemplate(cached.template), cached: true, hash, stackName: cached.stackName };
  }
  const cdkJson = JSON.parse(readFileSync(join(options.projectRoot, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  const outdir = join(options.cacheDir, `${hash}.out`);
  const app = new App({
    outdir,
    context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [], ...context },
  });
  const stack = buildHarmony(app);
  const assembly = app.synth();
  const template = assembly.getStackArtifact(stack.artifactId).template as unknown;
  mkdirSync(options.cacheDir, { recursive: true });
  writeFileSync(`${file}.tmp`, JSON.stringify({ stackName: stack.stackName, template }));
  renameSync(`${file}.tmp`, file);
  return { template: parseTemplate(template), cached: false, hash, stackName: stack.stackName };
}
