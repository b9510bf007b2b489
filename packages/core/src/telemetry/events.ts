import * as api from '@opentelemetry/api';
import type { Attributes, Context, Span } from '@opentelemetry/api';
import { VERSION } from '../version.js';
import { SCOPE_NAME } from './metrics.js';

/** Severity numbers of the OpenTelemetry log data model (`SeverityNumber` is not in api 1.9). */
export const SEVERITY = { INFO: 9, WARN: 13, ERROR: 17 } as const;
const SEVERITY_TEXT: Record<number, string> = { 9: 'INFO', 13: 'WARN', 17: 'ERROR' };

/** A log record as meshless emits it (a subset of the api 1.10 `LogRecord`). */
export interface MeshlessLogRecord {
  eventName?: string;
  severityNumber?: number;
  severityText?: string;
  attributes?: Attributes;
  context?: Context;
}

/** The part of an OpenTelemetry `Logger` meshless uses (api ≥ 1.10, or `@opentelemetry/api-logs`). */
export interface LoggerLike {
  emit(record: MeshlessLogRecord): void;
  enabled?(options?: { context?: Context; severityNumber?: number; eventName?: string }): boolean;
}

/** An OpenTelemetry `LoggerProvider`, e.g. `@opentelemetry/sdk-logs`' `LoggerProvider`. */
export interface LoggerProviderLike {
  getLogger(name: string, version?: string, options?: { schemaUrl?: string }): LoggerLike;
}

/** Emits meshless log events: one `eventName` each, correlated to a span. */
export interface EventEmitter {
  /**
   * Emits `eventName` with the attributes `build` returns (called only when the logger is
   * enabled for it), in the context of `span` when it records (else of the active span).
   */
  emit(eventName: string, severity: number, build: () => Attributes, span?: Span): void;
}

/**
 * The event emitter of `provider` (default: the global logger provider of `@opentelemetry/api`
 * ≥ 1.10, which is a proxy: a provider registered later is used), or undefined when there is no
 * Logs API (api ≤ 1.9 without a provider given).
 */
export function meshlessEvents(provider?: LoggerProviderLike): EventEmitter | undefined {
  const logs = (api as { logs?: { getLoggerProvider(): LoggerProviderLike } }).logs;
  const source = provider ?? logs?.getLoggerProvider();
  if (!source) return undefined;
  const logger = source.getLogger(SCOPE_NAME, VERSION);
  return {
    emit(eventName, severity, build, span) {
      try {
        const context =
          span?.isRecording() === true
            ? api.trace.setSpan(api.context.active(), span)
            : api.context.active();
        if (logger.enabled?.({ context, severityNumber: severity, eventName }) === false) return;
        logger.emit({
          eventName,
          severityNumber: severity,
          severityText: SEVERITY_TEXT[severity] ?? 'INFO',
          attributes: build(),
          context,
        });
      } catch {
        // Telemetry never breaks a request.
      }
    },
  };
}
