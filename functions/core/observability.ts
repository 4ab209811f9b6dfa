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

/**
 * CloudWatch metrics in EMF, flushed at the end of each invocation. Its notices go
 * through the logger; "no application metrics to publish" is normal for a step that
 * counts nothing, so it is logged at debug level instead of warning on every call.
 */
export const metrics = new Metrics({
  namespace: METRICS_NAMESPACE,
  logger: {
    debug: (...args: unknown[]) => logger.debug(String(args[0]), ...(args.slice(1) as [])),
    info: (...args: unknown[]) => logger.info(String(args[0]), ...(args.slice(1) as [])),
    error: (...args: unknown[]) => logger.error(String(args[0]), ...(args.slice(1) as [])),
    warn: (...args: unknown[]) =>
      String(args[0]).startsWith('No application metrics to publish')
        ? logger.debug(String(args[0]))
        : logger.warn(String(args[0]), ...(args.slice(1) as [])),
  },
});

/** X-Ray tracer: every AWS SDK client in `aws-clients.ts` is captured, so calls show as subsegments. */
export const tracer = new Tracer();
