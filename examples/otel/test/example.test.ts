import { describe, expect, it } from 'vitest';
import { runOtelExample } from '../src/example.js';
import { flatten, shapeOf } from '../src/span-tree.js';

const guarded = (decided: { span: string }[]) => [
  { span: 'middleware - meshlessGuard INTERNAL', children: decided },
];

describe('examples/otel: OTLP/HTTP export to a local receiver', () => {
  it('the receiver gets authz.decision spans nested under the SERVER spans', async () => {
    const lines: string[] = [];
    const { statuses, traces, exportRequests } = await runOtelExample((l) => lines.push(l));
    expect(statuses).toEqual([200, 403, 403]);
    expect(exportRequests).toBeGreaterThanOrEqual(1);
    const meshlessSpans = [{ span: 'authn.mtls INTERNAL' }, { span: 'authz.decision INTERNAL' }];
    expect(traces.map(shapeOf)).toEqual([
      {
        span: 'GET /items/:id SERVER',
        children: [...guarded(meshlessSpans), { span: 'request handler INTERNAL' }],
      },
      { span: 'GET SERVER', children: guarded(meshlessSpans) },
      { span: 'GET SERVER', children: guarded(meshlessSpans) },
    ]);
    const decisions = traces.map((t) => flatten(t).find((s) => s.name === 'authz.decision')!);
    expect(
      decisions.map((d) => [
        d.attributes['meshless.authz.decision'],
        d.attributes['meshless.authz.reason'],
      ]),
    ).toEqual([
      ['allow', 'authz_allow_policy'],
      ['deny', 'authz_no_allow_match'],
      ['deny', 'mtls_required'],
    ]);
    // one trace per request, all from the service's resource
    expect(new Set(traces.map((t) => t.span.traceId)).size).toBe(3);
    for (const t of traces)
      for (const s of flatten(t)) expect(s.attributes['service.name']).toBe('inventory');
    expect(lines).toContain(
      'GET /items/:id  SERVER  http.response.status_code=200 http.route=/items/:id',
    );
  });
});
