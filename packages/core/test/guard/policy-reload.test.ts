import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PolicyError } from '../../src/errors.js';
import { createGuard, type Guard } from '../../src/guard/guard.js';
import type { PolicyReloadEvent } from '../../src/guard/policy-watch.js';
import type { RequestFacts } from '../../src/guard/request-facts.js';

const workload = { namespace: 'payments', trustDomain: 'example.org' };
const quiet = () => {};

/** An ALLOW policy for exactly these paths. */
const allowPaths = (name: string, ...paths: string[]): string => `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: ${name}, namespace: payments }
spec:
  action: ALLOW
  rules: [{ to: [{ operation: { paths: [${paths.map((p) => `'${p}'`).join(', ')}] } }] }]
`;

const request = (path: string): RequestFacts => ({
  method: 'GET',
  path,
  host: 'payments',
  headers: {},
  sourceIp: '10.0.0.1',
  destinationPort: 8080,
});
const allowed = async (guard: Guard, path: string) => (await guard.check(request(path))).allow;

let dir: string;
let guards: Guard[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshless-policies-'));
});
afterEach(async () => {
  for (const g of guards) g.close?.();
  guards = [];
  await rm(dir, { recursive: true, force: true });
});

/** A guard whose reload events are collected; `next()` waits for the next one. */
async function watchedGuard(policies: string | string[]) {
  const events: PolicyReloadEvent[] = [];
  let wake: (() => void) | undefined;
  const guard = await createGuard({
    workload,
    mtls: { mode: 'DISABLE' },
    policies,
    onPolicyLint: quiet,
    policyReload: {
      debounceMs: 50,
      onReload: (event) => {
        events.push(event);
        wake?.();
      },
    },
  });
  guards.push(guard);
  const next = async (timeoutMs = 5000): Promise<PolicyReloadEvent> => {
    const seen = events.length;
    const deadline = Date.now() + timeoutMs;
    while (events.length === seen && Date.now() < deadline)
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 100);
      });
    const event = events[seen];
    if (!event) throw new Error(`no reload event within ${timeoutMs} ms`);
    return event;
  };
  return { guard, next };
}

describe('policy files: globs', () => {
  it('loads every matching file in sorted order (which decides the reported policy)', async () => {
    await mkdir(join(dir, 'team'), { recursive: true });
    await writeFile(join(dir, 'b.yaml'), allowPaths('b', '/shared'));
    await writeFile(join(dir, 'a.yaml'), allowPaths('a', '/shared'));
    await writeFile(join(dir, 'team', 'c.yaml'), allowPaths('c', '/team'));
    await writeFile(join(dir, 'notes.txt'), 'not a policy');
    const flat = await createGuard({
      workload,
      mtls: { mode: 'DISABLE' },
      policies: join(dir, '*.yaml'),
      onPolicyLint: quiet,
      policyReload: { watch: false },
    });
    expect(flat.policies.authorizationPolicies.map((p) => p.metadata.name)).toEqual(['a', 'b']);
    expect((await flat.check(request('/shared'))).policy).toBe('payments/a');
    expect(await allowed(flat, '/team')).toBe(false);
    const deep = await createGuard({
      workload,
      mtls: { mode: 'DISABLE' },
      policies: join(dir, '**/*.yaml'),
      onPolicyLint: quiet,
      policyReload: { watch: false },
    });
    expect(deep.policies.authorizationPolicies.map((p) => p.metadata.name)).toEqual([
      'a',
      'b',
      'c',
    ]);
  });

  it('follows symlinked files (Kubernetes ConfigMap mounts)', async () => {
    await mkdir(join(dir, '..data'));
    await writeFile(join(dir, '..data', 'authz.yaml'), allowPaths('linked', '/x'));
    await symlink(join(dir, '..data', 'authz.yaml'), join(dir, 'authz.yaml'));
    const guard = await createGuard({
      workload,
      policies: join(dir, '*.yaml'),
      onPolicyLint: quiet,
      policyReload: { watch: false },
    });
    expect(guard.policies.authorizationPolicies.map((p) => p.metadata.name)).toEqual(['linked']);
  });

  it('a glob that matches nothing is a load error, not an empty policy set', async () => {
    const error = await createGuard({ workload, policies: join(dir, '*.yaml') }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PolicyError);
    expect(error).toMatchObject({ code: 'ERR_POLICY_FILE' });
  });
});

describe('policy files: hot reload', () => {
  it('applies a changed file to new requests', async () => {
    const file = join(dir, 'authz.yaml');
    await writeFile(file, allowPaths('p', '/v1'));
    const { guard, next } = await watchedGuard(file);
    expect(await allowed(guard, '/v2')).toBe(false);
    await writeFile(file, allowPaths('p', '/v1', '/v2'));
    expect(await next()).toEqual({ ok: true, changed: true });
    expect(await allowed(guard, '/v2')).toBe(true);
    expect(guard.policies.authorizationPolicies).toHaveLength(1);
  });

  it('refuses an invalid new version and keeps the last good policies', async () => {
    const file = join(dir, 'authz.yaml');
    await writeFile(file, allowPaths('p', '/v1'));
    const { guard, next } = await watchedGuard(file);
    await writeFile(file, allowPaths('p', '/v1').replace('paths:', 'pathz:'));
    const event = await next();
    expect(event.ok).toBe(false);
    if (!event.ok) {
      expect(event.error).toBeInstanceOf(PolicyError);
      expect(event.error.message).toMatch(/pathz/);
    }
    expect(await allowed(guard, '/v1')).toBe(true);
    expect(await allowed(guard, '/v2')).toBe(false);
    // Fixed again: applied.
    await writeFile(file, allowPaths('p', '/v2'));
    expect(await next()).toEqual({ ok: true, changed: true });
    expect(await allowed(guard, '/v1')).toBe(false);
    expect(await allowed(guard, '/v2')).toBe(true);
  });

  it('picks up a new file that matches a glob', async () => {
    await writeFile(join(dir, 'a.yaml'), allowPaths('a', '/a'));
    const { guard, next } = await watchedGuard(join(dir, '*.yaml'));
    expect(await allowed(guard, '/b')).toBe(false);
    await writeFile(join(dir, 'b.yaml'), allowPaths('b', '/b'));
    expect(await next()).toMatchObject({ ok: true, changed: true });
    expect(await allowed(guard, '/b')).toBe(true);
  });

  it('stops watching after close()', async () => {
    const file = join(dir, 'authz.yaml');
    await writeFile(file, allowPaths('p', '/v1'));
    const { guard, next } = await watchedGuard(file);
    guard.close?.();
    await writeFile(file, allowPaths('p', '/v1', '/v2'));
    await expect(next(1000)).rejects.toThrow(/no reload event/); // 20 × the debounce
    expect(await allowed(guard, '/v2')).toBe(false);
  });
});
