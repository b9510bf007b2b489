import { context, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import type { JwksRefreshOutcome } from '../jwt/jwks-options.js';
import * as A from './attributes.js';
import { SEVERITY, type EventEmitter } from './events.js';
import { secondsSince, type MeshlessMetrics } from './metrics.js';

/** What a JWKS store reports to telemetry (internal: set by the guard). */
export interface JwksTelemetry {
  /**
   * Runs one JWKS download of `url` as a `jwks.fetch` CLIENT span (a child of the active span)
   * and a `meshless.jwks.fetch.duration` measurement; `run` gets a fetch that notes the status.
   */
  fetch<T>(
    issuer: string | undefined,
    url: string,
    doFetch: typeof fetch,
    run: (doFetch: typeof fetch) => Promise<T>,
  ): Promise<T>;
  /** Called after each refresh: a failed one that keeps serving old keys emits `meshless.jwks.stale`. */
  refreshed(issuer: string | undefined, url: string, outcome: JwksRefreshOutcome): void;
}

/** `url` without credentials, query or fragment (a query may carry an API key). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.search = '';
    u.hash = '';
    return u.toString();
  } catch {
    return '_OTHER';
  }
}

function errorTypeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[A-Za-z0-9_.]{1,64}$/.test(code) ? code : '_OTHER';
}

export function createJwksTelemetry(
  tracer: Tracer,
  instruments: MeshlessMetrics | undefined,
  events: EventEmitter | undefined,
): JwksTelemetry {
  return {
    async fetch(issuer, url, doFetch, run) {
      const span = tracer.startSpan(A.SPAN_JWKS_FETCH, {
        kind: SpanKind.CLIENT,
        attributes: { [A.ATTR_HTTP_REQUEST_METHOD]: 'GET', [A.ATTR_URL_FULL]: redactUrl(url) },
      });
      const started = performance.now();
      let status: number | undefined;
      let errorType: string | undefined;
      const noting: typeof fetch = async (input, init) => {
        const res = await doFetch(input, init);
        status = res.status;
        return res;
      };
      try {
        return await context.with(trace.setSpan(context.active(), span), () => run(noting));
      } catch (error) {
        errorType = errorTypeOf(error);
        span.setAttribute(A.ATTR_ERROR_TYPE, errorType);
        span.setStatus({ code: SpanStatusCode.ERROR, message: errorType });
        throw error;
      } finally {
        if (status !== undefined) span.setAttribute(A.ATTR_HTTP_RESPONSE_STATUS_CODE, status);
        span.end();
        instruments?.jwksFetchDuration.record(secondsSince(started), {
          ...(issuer !== undefined ? { [A.ATTR_JWT_ISSUER]: issuer } : {}),
          ...(status !== undefined ? { [A.ATTR_HTTP_RESPONSE_STATUS_CODE]: status } : {}),
          ...(errorType ? { [A.ATTR_ERROR_TYPE]: errorType } : {}),
        });
      }
    },
    refreshed(issuer, url, outcome) {
      if (outcome.ok || outcome.serving !== 'stale') return;
      events?.emit(A.EVENT_JWKS_STALE, SEVERITY.WARN, () => ({
        ...(issuer !== undefined ? { [A.ATTR_JWT_ISSUER]: issuer } : {}),
        [A.ATTR_URL_FULL]: redactUrl(url),
        [A.ATTR_ERROR_TYPE]: errorTypeOf(outcome.error),
      }));
    },
  };
}
