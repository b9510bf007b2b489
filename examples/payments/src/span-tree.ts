import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

/** Attributes shown next to a span name (the `meshless.` prefix is dropped). */
const SHOWN = [
  'meshless.authn.result',
  'meshless.authn.failure_reason',
  'meshless.principal.id',
  'meshless.authz.decision',
  'meshless.authz.reason',
  'meshless.authz.policy.name',
];

/**
 * Renders spans as trees, children under their parent, ordered by start time:
 * `├─ [service] name  key=value …`. A span whose parent is not among `spans` is a root. Without
 * HTTP instrumentation (as in this demo) every meshless span is a root: see examples/otel for the
 * spans nested under the HTTP SERVER span.
 */
export function formatSpanTree(spans: readonly ReadableSpan[], indent = '  '): string[] {
  const ids = new Set(spans.map((s) => s.spanContext().spanId));
  const children = new Map<string | undefined, ReadableSpan[]>();
  for (const span of spans) {
    const parent = span.parentSpanContext?.spanId;
    const key = parent && ids.has(parent) ? parent : undefined;
    children.set(key, [...(children.get(key) ?? []), span]);
  }
  const start = (s: ReadableSpan) => s.startTime[0] * 1e9 + s.startTime[1];
  const lines: string[] = [];
  const walk = (parent: string | undefined, prefix: string): void => {
    const list = [...(children.get(parent) ?? [])].sort((a, b) => start(a) - start(b));
    list.forEach((span, i) => {
      const last = i === list.length - 1;
      const name = span.resource.attributes['service.name'];
      const service = typeof name === 'string' ? name : '?';
      const attrs = SHOWN.filter((k) => span.attributes[k] !== undefined)
        .map((k) => `${k.slice('meshless.'.length)}=${String(span.attributes[k])}`)
        .join(' ');
      lines.push(`${prefix}${last ? '└─' : '├─'} [${service}] ${span.name}  ${attrs}`.trimEnd());
      walk(span.spanContext().spanId, `${prefix}${last ? '   ' : '│  '}`);
    });
  };
  walk(undefined, indent);
  return lines;
}
