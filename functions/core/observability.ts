/**
 * Powertools logger and metrics, created once per Lambda container and shared by
 * every module of a handler. The service name comes from POWERTOOLS_SERVICE_NAME,
 * which HarmonyFunction sets.
 *
 * No Powertools Tracer: importing it loads the X-Ray SDK, whose cls-hooked context
 * tracking puts an async hook with destroy tracking on every promise — measured 10–17×
 * slower promise resolution (bench: 2M awaits, 0.1–0.3 s without, 2.0–2.3 s with),
 * which the SDK-heavy handlers pay on every call, plus ~110 KB per bundle. Traces
 * still come from Lambda's and Step Functions' active tracing and API Gateway's stage
 * tracing: one segment per invocation, per state and per request.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
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
