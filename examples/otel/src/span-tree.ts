import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

/** The fields of a span the tree needs: from an SDK `ReadableSpan` or an OTLP/JSON span. */
export interface TreeSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string | undefined;
  name: string;
  /** `SERVER`, `INTERNAL`, … */
  kind: string;
  /** Start time, for ordering siblings (any monotonic unit). */
  start: bigint;
  attributes: Record<string, unknown>;
}

/** A span with its children, ordered by start time. */
export interface SpanNode<T extends TreeSpan = TreeSpan> {
  span: T;
  children: SpanNode<T>[];
}

const KINDS = ['INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];

/** Converts a finished SDK span (kept as `sdk`). */
export function fromReadableSpan(span: ReadableSpan): TreeSpan & { sdk: ReadableSpan } {
  const [s, ns] = span.startTime;
  return {
    traceId: span.spanContext().traceId,
    spanId: span.spanContext().spanId,
    parentSpanId: span.parentSpanContext?.spanId,
    name: span.name,
    kind: KINDS[span.kind] ?? String(span.kind),
    start: BigInt(s) * 1_000_000_000n + BigInt(ns),
    attributes: { ...span.attributes },
    sdk: span,
  };
}

/** Builds the trees: a span whose parent was not received is a root. Roots ordered by start. */
export function spanForest<T extends TreeSpan>(spans: readonly T[]): SpanNode<T>[] {
  const nodes = new Map(
    spans.map((span) => [
      `${span.traceId}/${span.spanId}`,
      { span, children: [] as SpanNode<T>[] },
    ]),
  );
  const roots: SpanNode<T>[] = [];
  for (const node of nodes.values()) {
    const { traceId, parentSpanId } = node.span;
    const parent = parentSpanId ? nodes.get(`${traceId}/${parentSpanId}`) : undefined;
    (parent ? parent.children : roots).push(node);
  }
  const byStart = (a: SpanNode<T>, b: SpanNode<T>) =>
    a.span.start < b.span.start ? -1 : a.span.start > b.span.start ? 1 : 0;
  const sort = (list: SpanNode<T>[]): void => {
    list.sort(byStart);
    for (const n of list) sort(n.children);
  };
  sort(roots);
  return roots;
}

/** The node and all its descendants, depth first. */
export function flatten<T extends TreeSpan>(node: SpanNode<T>): T[] {
  return [node.span, ...node.children.flatMap((c) => flatten(c))];
}

/** A compact shape for exact assertions: `"<name> <KIND>"` and the children, recursively. */
export interface SpanShape {
  span: string;
  children?: SpanShape[];
}

/** Turns a tree into {@link SpanShape}s (children omitted when there are none). */
export function shapeOf(node: SpanNode): SpanShape {
  const span = `${node.span.name} ${node.span.kind}`;
  return node.children.length ? { span, children: node.children.map(shapeOf) } : { span };
}

/** The attributes shown next to a span name by {@link formatForest}. */
const SHOWN = [
  'http.response.status_code',
  'http.route',
  'meshless.authn.result',
  'meshless.authn.failure_reason',
  'meshless.authz.decision',
  'meshless.authz.reason',
];

/** Renders the trees as text lines: `├─ name  KIND  key=value …`. */
export function formatForest(roots: readonly SpanNode[]): string[] {
  const lines: string[] = [];
  const line = (node: SpanNode, prefix: string, branch: string): void => {
    const attrs = SHOWN.filter((k) => node.span.attributes[k] !== undefined)
      .map((k) => `${k.replace(/^meshless\./, '')}=${String(node.span.attributes[k])}`)
      .join(' ');
    lines.push(
      `${prefix}${branch}${node.span.name}  ${node.span.kind}${attrs ? `  ${attrs}` : ''}`,
    );
  };
  const walk = (children: readonly SpanNode[], prefix: string): void => {
    children.forEach((child, i) => {
      const last = i === children.length - 1;
      line(child, prefix, last ? '└─ ' : '├─ ');
      walk(child.children, prefix + (last ? '   ' : '│  '));
    });
  };
  for (const root of roots) {
    line(root, '', '');
    walk(root.children, '');
  }
  return lines;
}
