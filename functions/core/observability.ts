/**
 * Powertools logger, metrics and tracer, created once per Lambda container and
 * shared by every module of a handler. The service name comes from
 * POWERTOOLS_SERVICE_NAME, which HarmonyFunction sets.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { METRICS_NAMESPACE } from './metric-names.ts';

/** Structured JSON logger; log ids and outcomes, never personal data. */
export const logger = new Logger();

/** CloudWatch metrics in EMF, flushed at the end of each invocation. */
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE });

/** X-Ray tracer: every AWS SDK client in `aws-clients.ts` is captured, so calls show as subsegments. */
export const tracer = new Tracer();
