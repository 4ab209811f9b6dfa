/**
 * The real ingest handler, loaded in-process for tests: dynalite with the stack's
 * idempotency and audit tables, a PutEvents endpoint as the bus, and the handler's
 * environment pointing at both.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { startEventBridgeRecorder, type EventBridgeRecorder } from './eventbridge-recorder.ts';
import { startHandlerStores, type HandlerStores } from './handler-stores.ts';

/** What a test talks to. */
export interface IngestUnderTest {
  readonly stores: HandlerStores;
  readonly bus: EventBridgeRecorder;
  readonly handler: (event: APIGatewayProxyEvent, context: unknown) => Promise<APIGatewayProxyResult>;
  stop(): Promise<void>;
}

/** Starts the stores and the bus, sets the environment, and imports the handler (once per test file). */
export async function startIngestUnderTest(clientSecret: string): Promise<IngestUnderTest> {
  const stores = await startHandlerStores();
  const bus = await startEventBridgeRecorder();
  Object.assign(process.env, stores.environment, {
    AWS_ENDPOINT_URL_EVENTBRIDGE: bus.endpoint,
    HUB_BUS_NAME: 'harmony-hub',
    HUBSPOT_CLIENT_SECRET: clientSecret,
    AWS_LAMBDA_FUNCTION_NAME: 'ingest',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
  });
  const { handler } = (await import('../../functions/handlers/ingest.ts')) as unknown as Pick<IngestUnderTest, 'handler'>;
  return {
    stores,
    bus,
    handler,
    stop: async () => {
      await bus.stop();
      await stores.stop();
    },
  };
}
