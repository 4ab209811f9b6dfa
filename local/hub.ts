/**
 * The local hub: the whole Harmony stack on one machine, from the same
 * synthesized template and the same handler modules that `cdk deploy` ships.
 * It wires DynamoDB (dynalite), and SQS, EventBridge and Step Functions
 * (Harmony's own, durable in node:sqlite), the
 * Lambda functions (worker threads), their SQS event source mappings, the
 * webhook ingress, the alarms, and the sandbox CRM and ERP — and names every
 * template resource it does not emulate.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { formatSlackAlarm, postToSlack, type AlarmNotification } from '../functions/core/alarm-message.ts';
import { LocalAlarms, type LocalMetricReader } from './alarms.ts';
import type { HubEnvironment } from './config.ts';
import { startDynaliteThread } from './dynamodb/dynalite-thread.ts';
import { startAwsEndpoint } from './endpoint/server.ts';
import { LocalEventBridge } from './eventbridge/service.ts';
import { runSchedules, schedulesOf } from './eventbridge/schedules.ts';
import { startIngress, type Ingress } from './ingress/server.ts';
import { freePort } from './net/free-port.ts';
import { functionsOf, unsupportedFunctionsOf, type LocalFunction } from './lambda/functions.ts';
import { LocalLambdaRuntime } from './lambda/runtime.ts';
import { SqsEventSourceMappings } from './lambda/sqs-event-source.ts';
import { provisionQueues, provisionTables } from './provision.ts';
import { CRM_CONNECTORS, ERP_CONNECTORS } from '../functions/connectors/all-connectors.ts';
import { secretArnVariable, type ConnectorDefinition } from '../functions/connectors/definition.ts';
import { SANDBOXES } from './sandbox/catalog.ts';
import type { RunningSandbox } from './sandbox/definition.ts';
import { startHubspotSandbox, type HubspotSandbox } from './sandbox/hubspot/server.ts';
import { startOdooSandbox, type OdooSandbox } from './sandbox/odoo/index.ts';
import { LocalSqs } from './sqs/service.ts';
import { startSqsHttpServer } from './sqs/http-server.ts';
import { LocalStepFunctions } from './stepfunctions/service.ts';
import { synthesizeCached } from './synth-cache.ts';
import { TemplateResolver } from './template/resolve-intrinsics.ts';
import { stateMachinesOf } from './template/state-machines.ts';
import { describeUnemulated } from './unemulated.ts';

/** The repository root: handler entries in the template are relative to it. */
export const PROJECT_ROOT = fileURLToPath(new URL('../', import.meta.url));

const REGION = 'us-east-1';
const ACCOUNT_ID = '000000000000';
/**
 * The hub's stores survive `kill -9` (every commit is in the WAL before a caller hears
 * of it), not a power cut: dynalite's LevelDB never syncs its writes, so syncing the
 * sqlite stores on every commit (`FULL`) bought no end-to-end guarantee and cost the
 * main thread an fsync per webhook.
 */
const CRASH_SAFE = 'NORMAL' as const;
const LOCAL_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' } as const;

/** A running hub. */
export interface RunningHub {
  readonly awsEndpoint: string;
  readonly ingressUrl: string;
  readonly hubspotUrl: string | undefined;
  readonly odooUrl: string | undefined;
  /** Sandboxes of other chosen connectors (Salesforce, NetSuite…), by system. */
  readonly sandboxes: ReadonlyMap<string, RunningSandbox>;
  readonly dataDir: string;
  /** Milliseconds from `startHub` to ready. */
  readonly startupMs: number;
  /** Whether the template came from the synth cache. */
  readonly synthCached: boolean;
  /** One line per template resource (or alarm) not emulated, with why. */
  readonly unemulated: readonly string[];
  readonly runtime: LocalLambdaRuntime;
  readonly stepFunctions: LocalStepFunctions;
  readonly eventBridge: LocalEventBridge;
  /** The hub's SQS (its `requestCounts()` are what AWS would bill). */
  readonly sqs: LocalSqs;
  readonly alarms: LocalAlarms;
  stop(): Promise<void>;
}

/** Options of `startHub`. */
export interface HubOptions {
  readonly environment: HubEnvironment;
  /** Where progress lines go. @default console.log */
  readonly log?: (line: string) => void;
  /** Where alarm notifications go besides Slack. @default the log */
  readonly onAlarm?: (notification: AlarmNotification) => void;
  /** Sees every DynamoDB, EventBridge and Step Functions request (X-Amz-Target, body) the endpoint takes. @default - none */
  readonly onAwsRequest?: (target: string, body: Buffer) => void;
}

/** The configured port, or a free one for 0 (chosen up front: other parts need to know it). */
async function portFor(host: string, wanted: number): Promise<number> {
  return wanted === 0 ? freePort(host) : wanted;
}

/** A port the hub chose itself (configured 0) was taken by someone else before the hub could listen on it. */
class ChosenPortTaken extends Error {}

/** How many times `startHub` starts again when a port it chose was taken in between. */
const CHOSEN_PORT_ATTEMPTS = 3;

function listenError(variable: string, port: number, host: string, chosenByHub = false) {
  return (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EADDRINUSE') return error;
    const message = `port ${port} on ${host} is already taken — set ${variable} to a free port`;
    return chosenByHub ? new ChosenPortTaken(message) : new Error(message);
  };
}

/**
 * The environment each function gets locally, over its template environment: connector
 * settings from the hub's environment instead of Secrets Manager ARNs.
 */
function connectorOverrides(
  environment: HubEnvironment,
  urls: { hubspot: string | undefined; odoo: string | undefined },
  chosen: readonly ConnectorDefinition<unknown>[],
  sandboxEnvironment: Readonly<Record<string, string>>,
) {
  const variables = environment as Readonly<Record<string, unknown>>;
  const valueOf = (name: string): string | undefined => {
    const own = variables[name];
    return typeof own === 'string' && own !== '' ? own : sandboxEnvironment[name];
  };
  const connectorVariables = new Set(
    chosen.flatMap((connector) => [
      ...Object.keys((connector.settings as { shape?: Record<string, unknown> }).shape ?? {}),
      ...Object.values(connector.secrets).map((field) => field.variable),
    ]),
  );
  return (fn: LocalFunction): Record<string, string> => {
    const overrides: Record<string, string> = {};
    const has = (name: string) => name in fn.environment;
    if (has('CRM_SYSTEM')) {
      // The sandboxes enforce no rate limits; the vendors' documented budgets would only slow a local run.
      const limits = variables.CONNECTOR_RATE_LIMITS;
      if (typeof limits === 'string' && limits !== '') overrides.CONNECTOR_RATE_LIMITS = limits;
      else if (environment.HARMONY_SANDBOXES) overrides.CONNECTOR_RATE_LIMITS = '*=off';
      // Step runners: the chosen connectors' settings and secrets from the environment (or their sandbox), not Secrets Manager.
      for (const connector of chosen) {
        if (connector.system === 'hubspot' || connector.system === 'odoo') continue;
        overrides[secretArnVariable(connector.system)] = '';
        for (const name of connectorVariables) {
          const value = valueOf(name);
          if (value !== undefined) overrides[name] = value;
        }
      }
    }
    if (has('HUBSPOT_SECRET_ARN')) {
      overrides.HUBSPOT_SECRET_ARN = '';
      overrides.HUBSPOT_ACCESS_TOKEN = environment.HUBSPOT_ACCESS_TOKEN;
      overrides.HUBSPOT_CLIENT_SECRET = environment.HUBSPOT_CLIENT_SECRET;
      const hubspotUrl = environment.HUBSPOT_BASE_URL ?? urls.hubspot;
      if (hubspotUrl !== undefined) overrides.HUBSPOT_BASE_URL = hubspotUrl;
    }
    if (has('ODOO_SECRET_ARN')) {
      overrides.ODOO_SECRET_ARN = '';
      overrides.ODOO_API_KEY = environment.ODOO_API_KEY;
      overrides.ODOO_DB = environment.ODOO_DB;
      overrides.ODOO_USERNAME = environment.ODOO_USERNAME;
      const odooUrl = environment.ODOO_URL ?? urls.odoo;
      if (odooUrl !== undefined) overrides.ODOO_URL = odooUrl;
    }
    if (has('SLACK_WEBHOOK_SECRET_ARN')) {
      overrides.SLACK_WEBHOOK_SECRET_ARN = '';
      if (environment.SLACK_WEBHOOK_URL !== undefined) overrides.SLACK_WEBHOOK_URL = environment.SLACK_WEBHOOK_URL;
    }
    if (fn.entry === 'functions/handlers/ingest.ts') {
      // Inbound sources beyond HubSpot: configured locally by exactly these variables, absent ones stay unconfigured (404).
      if (has('PIPEDRIVE_SECRET_ARN')) overrides.PIPEDRIVE_SECRET_ARN = '';
      if (has('STANDARD_WEBHOOKS_SECRET_ARN')) overrides.STANDARD_WEBHOOKS_SECRET_ARN = '';
      const inbound = [
        'PIPEDRIVE_WEBHOOK_USER',
        'PIPEDRIVE_WEBHOOK_PASSWORD',
        'STANDARD_WEBHOOKS_SECRET',
        'CALLBACK_JWKS_URL',
        'CALLBACK_JWT_ISSUER',
        'CALLBACK_JWT_AUDIENCE',
        'SALESFORCE_ORG_ID',
        'SALESFORCE_ALLOWED_CIDRS',
        'SALESFORCE_WON_STAGES',
      ] as const;
      // Set by the user, or told by a chosen CRM's sandbox (its org id, its webhook credentials).
      for (const name of inbound) {
        const value = valueOf(name);
        if (value !== undefined) overrides[name] = value;
      }
    }
    return overrides;
  };
}

/**
 * Starts the hub; everything it started is stopped again if a later part fails. A port the
 * hub picked for a configured 0 must be known before its server listens (every part is told
 * the endpoint), so another process may take it in between: then the hub starts once more.
 */
export async function startHub(options: HubOptions): Promise<RunningHub> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startHubOnce(options);
    } catch (error) {
      if (!(error instanceof ChosenPortTaken) || attempt >= CHOSEN_PORT_ATTEMPTS) throw error;
    }
  }
}

async function startHubOnce(options: HubOptions): Promise<RunningHub> {
  const started = performance.now();
  const env = options.environment;
  const log = options.log ?? ((line: string) => console.log(line));
  const host = env.HARMONY_HOST;
  const dataDir = resolve(env.HARMONY_DATA_DIR);
  for (const folder of ['synth', 'dynamodb', 'sqs', 'stepfunctions', 'eventbridge', 'sandbox']) {
    mkdirSync(join(dataDir, folder), { recursive: true });
  }
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    stops.length = 0;
  };
  try {
    const crmConnector = CRM_CONNECTORS.get(env.CRM_SYSTEM as never);
    const erpConnector = ERP_CONNECTORS.get(env.ERP_SYSTEM as never);
    if (crmConnector === undefined) throw new Error(`CRM_SYSTEM: no CRM connector "${env.CRM_SYSTEM}" (known: ${[...CRM_CONNECTORS.keys()].join(', ')})`);
    if (erpConnector === undefined) throw new Error(`ERP_SYSTEM: no ERP connector "${env.ERP_SYSTEM}" (known: ${[...ERP_CONNECTORS.keys()].join(', ')})`);
    const synth = synthesizeCached({
      projectRoot: PROJECT_ROOT,
      cacheDir: join(dataDir, 'synth'),
      ...(env.CRM_SYSTEM === 'hubspot' && env.ERP_SYSTEM === 'odoo' ? {} : { context: { crm: env.CRM_SYSTEM, erp: env.ERP_SYSTEM } }),
    });
    log(`template ${synth.stackName} ${synth.cached ? 'from cache' : 'synthesized'} (${synth.hash})`);

    const awsPort = await portFor(host, env.HARMONY_AWS_PORT);
    const ingressPort = await portFor(host, env.HARMONY_INGRESS_PORT);
    const awsEndpoint = `http://${host}:${awsPort}`;

    let hubspot: HubspotSandbox | undefined;
    let odoo: OdooSandbox | undefined;
    const sandboxes = new Map<string, RunningSandbox>();
    let sandboxEnvironment: Record<string, string> = {};
    if (env.HARMONY_SANDBOXES) {
      for (const system of [env.CRM_SYSTEM, env.ERP_SYSTEM]) {
        const definition = SANDBOXES.get(system);
        if (definition === undefined) continue;
        const configured = (env as Readonly<Record<string, unknown>>)[definition.portVariable];
        const port = configured === undefined ? definition.defaultPort : Number(configured);
        if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`${definition.portVariable}: expected a port number, got ${JSON.stringify(configured)}`);
        const sandbox = await definition
          .start({ host, port, dataDir: join(dataDir, 'sandbox', system), ingressUrl: `http://${host}:${ingressPort}`, log })
          .catch((error: NodeJS.ErrnoException) => Promise.reject(listenError(definition.portVariable, port, host)(error)));
        stops.push(() => sandbox.close());
        sandboxes.set(system, sandbox);
        sandboxEnvironment = { ...sandboxEnvironment, ...sandbox.environment };
      }
    }
    if (env.HARMONY_SANDBOXES && env.CRM_SYSTEM === 'hubspot') {
      hubspot = await startHubspotSandbox({
        port: env.HARMONY_HUBSPOT_PORT,
        host,
        dataDir: join(dataDir, 'sandbox', 'hubspot'),
        accessToken: env.HUBSPOT_ACCESS_TOKEN,
        clientSecret: env.HUBSPOT_CLIENT_SECRET,
        webhookUrl: `http://${host}:${ingressPort}/webhooks/hubspot`,
      }).catch((error: NodeJS.ErrnoException) => Promise.reject(listenError('HARMONY_HUBSPOT_PORT', env.HARMONY_HUBSPOT_PORT, host)(error)));
      stops.push(() => hubspot!.close());
    }
    if (env.HARMONY_SANDBOXES && env.ERP_SYSTEM === 'odoo') {
      odoo = await startOdooSandbox({
        port: env.HARMONY_ODOO_PORT,
        host,
        dataDir: join(dataDir, 'sandbox', 'odoo'),
        db: env.ODOO_DB,
        username: env.ODOO_USERNAME,
        apiKey: env.ODOO_API_KEY,
      }).catch((error: NodeJS.ErrnoException) => Promise.reject(listenError('HARMONY_ODOO_PORT', env.HARMONY_ODOO_PORT, host)(error)));
      stops.push(() => odoo!.close());
    }

    const dynamo = await startDynaliteThread(join(dataDir, 'dynamodb'), host);
    stops.push(() => dynamo.close());
    const sqsServer = await startSqsHttpServer({
      port: 0,
      host,
      service: () => new LocalSqs({ dataDir: join(dataDir, 'sqs'), synchronous: CRASH_SAFE, endpoint: awsEndpoint, region: REGION, accountId: ACCOUNT_ID }),
    });
    stops.push(() => sqsServer.close());
    const released = sqsServer.service.releaseInFlight();
    if (released > 0) log(`${released} queue messages taken by the previous run are visible again`);

    const resolver = new TemplateResolver(synth.template, {
      region: REGION,
      accountId: ACCOUNT_ID,
      stackName: synth.stackName,
      sqsEndpoint: awsEndpoint,
    });
    const eventBridge = new LocalEventBridge({
      resolver,
      dataDir: join(dataDir, 'eventbridge'),
      synchronous: CRASH_SAFE,
      sqsEndpoint: sqsServer.url,
      region: REGION,
      accountId: ACCOUNT_ID,
      // Leftover outbox rows wait until the queues they target exist again.
      deferDelivery: true,
    });
    stops.push(async () => eventBridge.close());

    const functions = functionsOf(
      resolver,
      connectorOverrides(env, { hubspot: hubspot?.url, odoo: odoo?.url }, [crmConnector, erpConnector], sandboxEnvironment),
    );
    const runtime = new LocalLambdaRuntime({
      functions,
      projectRoot: PROJECT_ROOT,
      maxConcurrencyPerFunction: env.HARMONY_LAMBDA_CONCURRENCY,
      baseEnvironment: {
        AWS_REGION: REGION,
        AWS_DEFAULT_REGION: REGION,
        ...LOCAL_CREDENTIALS,
        AWS_ENDPOINT_URL: awsEndpoint,
        // Functions reach DynamoDB directly, sparing the main thread a proxy hop per call; the
        // cost benchmark, which counts every request at the endpoint, keeps them on the endpoint.
        ...(options.onAwsRequest === undefined ? { AWS_ENDPOINT_URL_DYNAMODB: dynamo.url } : {}),
        POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
        POWERTOOLS_METRICS_DISABLED: 'true',
        // Opt-in worker CPU profiles (see local/lambda/worker-profiler.ts).
        ...Object.fromEntries(
          ['HARMONY_CPU_PROFILE_DIR', 'HARMONY_CPU_PROFILE_SECONDS'].flatMap((name) => (process.env[name] === undefined ? [] : [[name, process.env[name]!]])),
        ),
      },
    });
    stops.push(() => runtime.stop());

    const stepFunctions = new LocalStepFunctions({
      machines: stateMachinesOf(resolver),
      dataDir: join(dataDir, 'stepfunctions'),
      invoke: (functionLogicalId, payload) => runtime.invoke(functionLogicalId, payload),
      sqsEndpoint: sqsServer.url,
      region: REGION,
      accountId: ACCOUNT_ID,
    });
    stops.push(async () => stepFunctions.close());

    const endpoint = await startAwsEndpoint({
      port: awsPort,
      host,
      jsonServices: [eventBridge, stepFunctions],
      proxies: { dynamodb: dynamo.url, sqs: sqsServer.url },
      ...(options.onAwsRequest === undefined ? {} : { onRequest: options.onAwsRequest }),
    }).catch((error: NodeJS.ErrnoException) => Promise.reject(listenError('HARMONY_AWS_PORT', awsPort, host, env.HARMONY_AWS_PORT === 0)(error)));
    stops.push(() => endpoint.close());

    const tables = await provisionTables(resolver, dynamo.url);
    const queues = await provisionQueues(resolver, awsEndpoint);
    eventBridge.startDelivery();
    log(`tables: ${tables.created.length} created, ${tables.existing.length} kept; queues: ${queues.created.length} created, ${queues.existing.length} kept`);

    const mappings = new SqsEventSourceMappings({ resolver, sqsEndpoint: awsEndpoint, runtime });
    mappings.start();
    stops.push(() => mappings.stop());
    await stepFunctions.resume();

    const scheduled = schedulesOf(resolver, functions);
    const stopSchedules = runSchedules(scheduled.schedules, {
      invoke: (logicalId, event) => runtime.invoke(logicalId, event),
      region: REGION,
      accountId: ACCOUNT_ID,
      ruleArn: (logicalId) => resolver.getAtt(logicalId, 'Arn'),
      ...(env.HARMONY_SCHEDULE_INTERVAL_SECONDS === undefined ? {} : { intervalMs: env.HARMONY_SCHEDULE_INTERVAL_SECONDS * 1000 }),
      log,
    });
    stops.push(async () => stopSchedules());

    let apiServerErrors = 0;
    let ready = false;
    const ingestFunction = functions.find((fn) => fn.entry === 'functions/handlers/ingest.ts');
    if (ingestFunction === undefined) throw new Error('the template has no ingest function (functions/handlers/ingest.ts)');
    const ingress: Ingress = await startIngress({
      host,
      port: ingressPort,
      invoke: (event) => runtime.invoke(ingestFunction.logicalId, event),
      ready: () => ready,
      onResponse: (status) => {
        if (status >= 500) apiServerErrors += 1;
      },
    }).catch((error: NodeJS.ErrnoException) => Promise.reject(listenError('HARMONY_INGRESS_PORT', ingressPort, host, env.HARMONY_INGRESS_PORT === 0)(error)));
    stops.push(() => ingress.close());

    const read: LocalMetricReader = async (namespace, metricName, dimensions) => {
      if (namespace === 'AWS/SQS' && metricName === 'ApproximateNumberOfMessagesVisible') {
        const depth = sqsServer.service.depth(dimensions.QueueName ?? '');
        return depth === undefined ? undefined : { kind: 'gauge', value: depth.visible };
      }
      if (namespace === 'AWS/SQS' && metricName === 'ApproximateAgeOfOldestMessage') {
        const age = sqsServer.service.oldestAgeSeconds(dimensions.QueueName ?? '');
        return age === undefined ? undefined : { kind: 'gauge', value: age };
      }
      if (namespace === 'AWS/Lambda' && (metricName === 'Errors' || metricName === 'Throttles')) {
        const stats = runtime.stats().find((fn) => fn.functionName === dimensions.FunctionName);
        if (stats === undefined) return undefined;
        return { kind: 'counter', value: metricName === 'Errors' ? stats.errors : stats.throttles };
      }
      if (namespace === 'AWS/States') {
        const value = stepFunctions.metric(dimensions.StateMachineArn ?? '', metricName);
        return value === undefined ? undefined : { kind: 'counter', value };
      }
      if (namespace === 'AWS/ApiGateway' && metricName === '5XXError') return { kind: 'counter', value: apiServerErrors };
      return undefined;
    };
    const alarms = new LocalAlarms({
      resolver,
      read,
      notify: async (notification) => {
        (options.onAlarm ?? ((alarm) => log(`ALARM ${alarm.NewStateValue} ${alarm.AlarmName}: ${alarm.NewStateReason}`)))(notification);
        if (env.SLACK_WEBHOOK_URL !== undefined) {
          await postToSlack(env.SLACK_WEBHOOK_URL, formatSlackAlarm(notification)).catch((error: Error) =>
            log(`Slack did not take the alarm: ${error.message}`),
          );
        }
      },
    });
    await alarms.evaluate();
    let evaluating = false;
    const alarmTimer = setInterval(() => {
      if (evaluating) return;
      evaluating = true;
      alarms.evaluate().catch((error: Error) => log(`alarm evaluation failed: ${error.message}`)).finally(() => {
        evaluating = false;
      });
    }, env.HARMONY_ALARM_INTERVAL_SECONDS * 1000);
    alarmTimer.unref();
    stops.push(async () => clearInterval(alarmTimer));

    const unemulated = [
      ...describeUnemulated(synth.template),
      ...unsupportedFunctionsOf(resolver).map((fn) => `Lambda ${fn.functionName}: ${fn.reason}`),
      ...mappings.unsupported.map((mapping) => `event source mapping ${mapping.logicalId}: ${mapping.reason}`),
      ...scheduled.unsupported.map((line) => `schedule ${line}`),
      ...alarms.unsupported.map((line) => `alarm ${line}`),
    ];
    ready = true;
    return {
      awsEndpoint,
      ingressUrl: ingress.url,
      hubspotUrl: hubspot?.url,
      odooUrl: odoo?.url,
      sandboxes,
      dataDir,
      startupMs: performance.now() - started,
      synthCached: synth.cached,
      unemulated,
      runtime,
      stepFunctions,
      eventBridge,
      sqs: sqsServer.service,
      alarms,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
