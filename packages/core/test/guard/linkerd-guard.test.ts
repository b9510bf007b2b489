import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { createGuard } from '../../src/guard/guard.js';
import type { RequestFacts } from '../../src/guard/request-facts.js';

// https://linkerd.io/2/reference/authorization-policy/ : a Server selects pods and a port;
// AuthorizationPolicy targets it and requires a NetworkAuthentication; ports no Server selects
// fall back to the cluster default policy.
const LINKERD = `
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: { name: web-http, namespace: shop }
spec:
  podSelector: { matchLabels: { app: web } }
  port: http
  proxyProtocol: HTTP/1
---
apiVersion: policy.linkerd.io/v1alpha1
kind: NetworkAuthentication
metadata: { name: office, namespace: shop }
spec: { networks: [{ cidr: 10.0.0.0/8, except: [10.9.0.0/16] }] }
---
apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: { name: web-from-office, namespace: shop }
spec:
  targetRef: { group: policy.linkerd.io, kind: Server, name: web-http }
  requiredAuthenticationRefs:
    - { name: office, kind: NetworkAuthentication, group: policy.linkerd.io }
`;

const workload = {
  namespace: 'shop',
  labels: { app: 'web' },
  trustDomain: 'cluster.local',
  ports: { http: 8080 },
};
const facts = (sourceIp: string, destinationPort: number): RequestFacts => ({
  method: 'GET',
  path: '/',
  host: 'web',
  headers: {},
  sourceIp,
  destinationPort,
});

describe('createGuard with Linkerd policy documents', () => {
  it('imports them from the policies option and decides as Linkerd would', async () => {
    const guard = await createGuard({
      workload,
      mtls: { mode: 'PERMISSIVE' },
      policies: LINKERD,
      onPolicyLint: () => {},
    });
    expect((await guard.check(facts('10.1.2.3', 8080))).allow).toBe(true);
    expect((await guard.check(facts('10.9.0.1', 8080))).allow).toBe(false); // except
    expect((await guard.check(facts('192.168.1.1', 8080))).allow).toBe(false);
    // Port 9090: no Server, the default policy all-unauthenticated allows.
    expect((await guard.check(facts('192.168.1.1', 9090))).allow).toBe(true);
  });

  it('applies linkerd.defaultPolicy to ports no Server selects', async () => {
    const guard = await createGuard({
      workload,
      mtls: { mode: 'PERMISSIVE' },
      policies: LINKERD,
      linkerd: { defaultPolicy: 'deny' },
      onPolicyLint: () => {},
    });
    expect((await guard.check(facts('10.1.2.3', 9090))).allow).toBe(false);
    expect((await guard.check(facts('10.1.2.3', 8080))).allow).toBe(true);
  });

  it('refuses Linkerd documents mixed with Istio AuthorizationPolicies', async () => {
    const istio = `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: allow-all, namespace: shop }
spec: { rules: [{}] }
`;
    await expect(
      createGuard({ workload, policies: [LINKERD, istio], onPolicyLint: () => {} }),
    ).rejects.toBeInstanceOf(ConfigError);
  });
});
