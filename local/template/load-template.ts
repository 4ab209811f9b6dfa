/**
 * Reads a synthesized CloudFormation template (JSON, as `cdk synth` writes it to
 * `cdk.out`) so the local hub can run the same resources the cloud deploys.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod';

/** One resource of a template. */
export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: { readonly [name: string]: unknown };
  readonly Metadata?: { readonly [name: string]: unknown };
  readonly Condition?: string;
  readonly DependsOn?: string | readonly string[];
}

/** A template parameter; the local hub uses its Default unless told otherwise. */
export interface TemplateParameter {
  readonly Type: string;
  readonly Default?: unknown;
}

/** The parts of a CloudFormation template the local hub reads. */
export interface CloudFormationTemplate {
  readonly Resources: { readonly [logicalId: string]: TemplateResource };
  readonly Parameters?: { readonly [name: string]: TemplateParameter };
  readonly Conditions?: { readonly [name: string]: unknown };
  readonly Mappings?: { readonly [name: string]: { readonly [key: string]: { readonly [name: string]: unknown } } };
  readonly Outputs?: { readonly [name: string]: { readonly Value: unknown; readonly Export?: unknown } };
}

const TemplateSchema = z.object({
  Resources: z.record(
    z.string(),
    z.looseObject({
      Type: z.string().min(1),
      Properties: z.record(z.string(), z.unknown()).optional(),
      Metadata: z.record(z.string(), z.unknown()).optional(),
      Condition: z.string().optional(),
      DependsOn: z.union([z.string(), z.array(z.string())]).optional(),
    }),
  ),
  Parameters: z.record(z.string(), z.looseObject({ Type: z.string(), Default: z.unknown().optional() })).optional(),
  Conditions: z.record(z.string(), z.unknown()).optional(),
  Mappings: z.record(z.string(), z.record(z.string(), z.record(z.string(), z.unknown()))).optional(),
  Outputs: z.record(z.string(), z.looseObject({ Value: z.unknown(), Export: z.unknown().optional() })).optional(),
});

/** Checks that `json` has the shape of a CloudFormation template; `source` names it in errors. */
export function parseTemplate(json: unknown, source = 'template'): CloudFormationTemplate {
  const parsed = TemplateSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${[source, ...issue.path].join('.')}: ${issue.message}`);
    throw new Error(`Not a CloudFormation template — ${problems.join('; ')}`);
  }
  return parsed.data as CloudFormationTemplate;
}

/** Reads and checks a template JSON file. */
export async function loadTemplate(path: string): Promise<CloudFormationTemplate> {
  const text = await readFile(path, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${path}: not JSON (${(error as Error).message})`);
  }
  return parseTemplate(json, path);
}

const ManifestSchema = z.object({
  artifacts: z.record(
    z.string(),
    z.looseObject({
      type: z.string(),
      displayName: z.string().optional(),
      properties: z.looseObject({ templateFile: z.string().optional() }).optional(),
    }),
  ),
});

/**
 * Reads the template of stack `stackName` from a cloud assembly directory (`cdk.out`),
 * found through the assembly's `manifest.json` (artifact id or display name).
 */
export async function loadStackTemplate(assemblyDirectory: string, stackName: string): Promise<CloudFormationTemplate> {
  const manifestPath = join(assemblyDirectory, 'manifest.json');
  const manifest = ManifestSchema.safeParse(JSON.parse(await readFile(manifestPath, 'utf8')));
  if (!manifest.success) throw new Error(`${manifestPath}: not a cloud assembly manifest`);
  const stacks = Object.entries(manifest.data.artifacts).filter(([, artifact]) => artifact.type === 'aws:cloudformation:stack');
  const match = stacks.find(([id, artifact]) => id === stackName || artifact.displayName === stackName);
  const templateFile = match?.[1].properties?.templateFile;
  if (templateFile === undefined) {
    const known = stacks.map(([id]) => id).join(', ') || 'none';
    throw new Error(`${manifestPath}: no stack named ${stackName} (stacks: ${known})`);
  }
  return loadTemplate(join(assemblyDirectory, templateFile));
}
