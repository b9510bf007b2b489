import { AssertionError } from 'node:assert';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { assertSpan, createSpanRecorder } from '../src/index.js';

describe('createSpanRecorder', () => {
  it('records spans made with its provider, with parent links', async () => {
    const rec = createSpanRecorder();
    const tracer = rec.provider.getTracer('test');
    tracer.startActiveSpan('parent', { kind: SpanKind.SERVER }, (parent) => {
      tracer.startActiveSpan('child', (child) => {
        child.setAttribute('meshless.decision', 'allow');
        child.setAttribute('list', ['a', 'b']);
        child.setStatus({ code: SpanStatusCode.OK });
        child.end();
      });
      parent.setStatus({ code: SpanStatusCode.ERROR, message: 'denied' });
      parent.end();
    });

    expect(rec.spans().map((s) => s.name)).toEqual(['child', 'parent']);
    const [child] = rec.byName('child');
    const [parent] = rec.byName('parent');
    assertSpan(parent!, { name: 'parent', kind: SpanKind.SERVER, status: SpanStatusCode.ERROR });
    assertSpan(child!, {
      kind: SpanKind.INTERNAL,
      status: SpanStatusCode.OK,
      attributes: { 'meshless.decision': 'allow', list: ['a', 'b'], absent: undefined },
      parent: parent!,
    });

    expect(() => assertSpan(child!, { kind: SpanKind.CLIENT })).toThrow(AssertionError);
    expect(() => assertSpan(child!, { kind: SpanKind.CLIENT })).toThrow(
      /kind mismatch.*CLIENT.*INTERNAL/,
    );
    expect(() => assertSpan(child!, { attributes: { 'meshless.decision': 'deny' } })).toThrow(
      /attributes\.meshless\.decision/,
    );
    expect(() => assertSpan(child!, { attributes: { list: undefined } })).toThrow(
      /attributes\.list/,
    );
    expect(() => assertSpan(parent!, { parent: child! })).toThrow(/parent mismatch/);
    expect(() => assertSpan(parent!, { status: SpanStatusCode.OK })).toThrow(
      /status mismatch.*OK.*ERROR/,
    );
    expect(() => assertSpan(parent!, { name: 'nope' })).toThrow(/name mismatch/);

    rec.reset();
    expect(rec.spans()).toEqual([]);
    await rec.shutdown();
  });

  it('register: true makes it the global tracer provider until shutdown', async () => {
    const rec = createSpanRecorder({ register: true });
    trace.getTracer('global').startSpan('via-global').end();
    expect(rec.byName('via-global')).toHaveLength(1);
    await rec.shutdown();

    const next = createSpanRecorder({ register: true });
    trace.getTracer('global').startSpan('again').end();
    expect(next.byName('again')).toHaveLength(1);
    expect(rec.byName('again')).toHaveLength(0);
    await next.shutdown();
  });
});
