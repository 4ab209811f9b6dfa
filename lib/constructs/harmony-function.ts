import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Architecture, type CfnFunction, LoggingFormat, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { fileURLToPath } from 'node:url';

/** The repository root, so entries can be given as `functions/handlers/<name>.ts`. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Template metadata key naming a function's handler module, read by the local runtime. */
export const ENTRY_METADATA_KEY = 'harmony:entry';

/**
 * How every Harmony handler is bundled: one minified ESM file per function. Exported so a
 * test can bundle exactly like this and load every connector from the result.
 */
export function harmonyBundling(environment: Readonly<Record<string, string>> = {}) {
  return {
    format: OutputFormat.ESM,
    target: 'node24',
    minify: true,
    sourceMap: true,
    sourcesContent: false,
    mainFields: ['module', 'main'],
    // ESM bundles still meet CommonJS dependencies that call require() or read __dirname (ssh2).
    banner:
      "import { createRequire as __harmonyCreateRequire } from 'module'; const require = __harmonyCreateRequire(import.meta.url); const __filename = import.meta.filename; const __dirname = import.meta.dirname;",
    // The Lambda Node 24 runtime ships AWS SDK v3, but we bundle it so the version is the one we tested.
    // ssh2's optional native speed-ups (cpu-features, sshcrypto.node) are loaded in a try and left out:
    // it falls back to pure JavaScript.
    externalModules: ['cpu-features', '*.node'],
    // A function that talks to a CRM and an ERP carries only those two connectors
    // (functions/connectors/catalog.ts folds its guards on these constants).
    define: Object.fromEntries(
      [
        ['process.env.HARMONY_BUNDLED_CRM', environment.CRM_SYSTEM],
        ['process.env.HARMONY_BUNDLED_ERP', environment.ERP_SYSTEM],
      ].flatMap(([name, value]) => (value === undefined ? [] : [[name, JSON.stringify(value)]])),
    ),
  };
}

/** Props of a Harmony Lambda function. */
export interface HarmonyFunctionProps {
  /** Handler module relative to the repository root, e.g. `functions/handlers/ingest.ts`; it exports `handler`. */
  readonly entry: string;
  /** What the function is for, shown in the console. */
  readonly description: string;
  /** Environment the handler's zod schema reads. */
  readonly environment?: Readonly<Record<string, string>>;
  /** @default 256 */
  readonly memorySize?: number;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** Key that encrypts the log group; the key policy must allow CloudWatch Logs. @default AWS-owned encryption */
  readonly logKey?: IKey;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** Powertools service name. @default `harmony` */
  readonly serviceName?: string;
}

/**
 * A Node.js Lambda with Harmony's safe defaults: Node 24 on arm64, ESM bundle
 * minified with source maps, X-Ray tracing, JSON logs in a log group with retention,
 * Powertools configured, and the handler's entry recorded for the local runtime.
 */
export class HarmonyFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: HarmonyFunctionProps) {
    if (!/^functions\/handlers\/[a-z0-9-]+\.ts$/.test(props.entry)) {
      throw new Error(`HarmonyFunction ${id}: entry "${props.entry}" must be functions/handlers/<kebab-name>.ts`);
    }
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      encryptionKey: props.logKey,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    super(scope, id, {
      entry: `${PROJECT_ROOT}${props.entry}`,
      handler: 'handler',
      description: props.description,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(30),
      tracing: Tracing.ACTIVE,
      loggingFormat: LoggingFormat.JSON,
      logGroup,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: `${PROJECT_ROOT}package-lock.json`,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: props.serviceName ?? 'harmony',
        POWERTOOLS_METRICS_NAMESPACE: 'Harmony',
        ...props.environment,
      },
      bundling: harmonyBundling(props.environment),
    });
    (this.node.defaultChild as CfnFunction).addMetadata(ENTRY_METADATA_KEY, props.entry);
  }
}
