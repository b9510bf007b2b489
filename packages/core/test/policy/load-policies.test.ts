import { describe, expect, it } from 'vitest';
import {
  MeshlessError,
  PolicyError,
  type PolicyErrorCode,
  type PolicyErrorLocation,
} from '../../src/errors.js';
import { loadPolicies, mergePolicySets } from '../../src/policy/load-policies.js';

const MULTI_DOC = `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: allow-checkout
  namespace: payments
  annotations:
    istio.io/dry-run: "true"
spec:
  selector:
    matchLabels:
      app: payments
  action: ALLOW
  rules:
    - from:
        - source:
            principals: ["cluster.local/ns/shop/sa/checkout"]
            namespaces: ["shop"]
      to:
        - operation:
            methods: ["POST"]
            paths: ["/charge", "/refund*"]
            ports: ["8080"]
            hosts: ["payments.example", "payments.example:*"]
---
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata:
  name: deny-admin
spec:
  action: DENY
  rules:
    - to:
        - operation:
            paths: ["/admin*"]
      from:
        - source:
            notRequestPrincipals: ["*"]
---
apiVersion: security.istio.io/v1beta1
kind: RequestAuthentication
metadata:
  name: jwt
  namespace: payments
spec:
  jwtRules:
    - issuer: https://issuer.example
      audiences: [payments]
      jwksUri: https://issuer.example/jwks.json
    - issuer: https://other.example
---
`;

describe('loadPolicies: valid input', () => {
  it('reads multi-document YAML (v1 and v1beta1, trailing ---)', () => {
    const set = loadPolicies(MULTI_DOC);
    expect(set.authorizationPolicies).toHaveLength(2);
    expect(set.requestAuthentications).toHaveLength(1);
    const [allow, deny] = set.authorizationPolicies;
    expect(allow).toEqual({
      kind: 'AuthorizationPolicy',
      metadata: {
        name: 'allow-checkout',
        namespace: 'payments',
        annotations: { 'istio.io/dry-run': 'true' },
      },
      spec: {
        action: 'ALLOW',
        selector: { matchLabels: { app: 'payments' } },
        rules: [
          {
            from: [
              {
                source: { principals: ['cluster.local/ns/shop/sa/checkout'], namespaces: ['shop'] },
              },
            ],
            to: [
              {
                operation: {
                  methods: ['POST'],
                  paths: ['/charge', '/refund*'],
                  ports: ['8080'],
                  hosts: ['payments.example', 'payments.example:*'],
                },
              },
            ],
          },
        ],
      },
    });
    expect(deny?.metadata).toEqual({ name: 'deny-admin' });
    expect(deny?.spec.action).toBe('DENY');
    expect(deny?.spec.rules?.[0]?.from?.[0]?.source).toEqual({ notRequestPrincipals: ['*'] });
    expect(set.requestAuthentications[0]).toEqual({
      kind: 'RequestAuthentication',
      metadata: { name: 'jwt', namespace: 'payments' },
      spec: {
        jwtRules: [
          {
            issuer: 'https://issuer.example',
            audiences: ['payments'],
            jwksUri: 'https://issuer.example/jwks.json',
          },
          { issuer: 'https://other.example' },
        ],
      },
    });
  });

  it('reads a single object and a list of objects', () => {
    const doc = {
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'a' },
      spec: { rules: [{}] },
    };
    expect(loadPolicies(doc).authorizationPolicies).toEqual([
      {
        kind: 'AuthorizationPolicy',
        metadata: { name: 'a' },
        spec: { action: 'ALLOW', rules: [{}] },
      },
    ]);
    expect(
      loadPolicies([doc, { ...doc, metadata: { name: 'b' } }]).authorizationPolicies.map(
        (p) => p.metadata.name,
      ),
    ).toEqual(['a', 'b']);
  });

  it('defaults the action to ALLOW and keeps an absent rules list absent (allow-nothing)', () => {
    const set = loadPolicies(
      'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: nothing}\nspec: {}\n',
    );
    expect(set.authorizationPolicies[0]?.spec).toEqual({ action: 'ALLOW' });
    const noSpec = loadPolicies(
      'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: nothing}\n',
    );
    expect(noSpec.authorizationPolicies[0]?.spec).toEqual({ action: 'ALLOW' });
  });

  it('accepts rules: [{}], rules: [] for ALLOW, AUDIT without rules, and DENY with rules: [{}]', () => {
    const base = { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy' };
    const set = loadPolicies([
      { ...base, metadata: { name: 'all' }, spec: { rules: [{}] } },
      { ...base, metadata: { name: 'none' }, spec: { rules: [] } },
      { ...base, metadata: { name: 'audit' }, spec: { action: 'AUDIT' } },
      { ...base, metadata: { name: 'deny-all' }, spec: { action: 'DENY', rules: [{}] } },
    ]);
    expect(
      set.authorizationPolicies.map((p) => [p.metadata.name, p.spec.action, p.spec.rules]),
    ).toEqual([
      ['all', 'ALLOW', [{}]],
      ['none', 'ALLOW', []],
      ['audit', 'AUDIT', undefined],
      ['deny-all', 'DENY', [{}]],
    ]);
  });

  it('ignores empty documents and an empty source', () => {
    const empty = {
      authorizationPolicies: [],
      requestAuthentications: [],
      peerAuthentications: [],
    };
    expect(loadPolicies('')).toEqual(empty);
    expect(loadPolicies('---\n---\n')).toEqual(empty);
    expect(loadPolicies([])).toEqual(empty);
  });

  it('accepts a middle `*` and a port of 0 and 65535', () => {
    const set = loadPolicies({
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'x' },
      spec: { rules: [{ to: [{ operation: { paths: ['/a*b'], ports: ['0', '65535'] } }] }] },
    });
    expect(set.authorizationPolicies[0]?.spec.rules?.[0]?.to?.[0]?.operation).toEqual({
      paths: ['/a*b'],
      ports: ['0', '65535'],
    });
  });

  it('mergePolicySets concatenates in order', () => {
    const a = loadPolicies(MULTI_DOC);
    const b = loadPolicies({
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'z' },
    });
    const merged = mergePolicySets([a, b]);
    expect(merged.authorizationPolicies.map((p) => p.metadata.name)).toEqual([
      'allow-checkout',
      'deny-admin',
      'z',
    ]);
    expect(merged.requestAuthentications).toHaveLength(1);
  });
});

function loadError(
  source: Parameters<typeof loadPolicies>[0],
  options?: { file?: string },
): PolicyError {
  try {
    loadPolicies(source, options);
  } catch (error) {
    expect(error).toBeInstanceOf(PolicyError);
    expect(error).toBeInstanceOf(MeshlessError);
    return error as PolicyError;
  }
  throw new Error('loadPolicies did not throw');
}

const ap = (spec: unknown, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'security.istio.io/v1',
  kind: 'AuthorizationPolicy',
  metadata: { name: 'p' },
  spec,
  ...extra,
});
const rule = (r: unknown) => ap({ rules: [r] });
const from = (source: unknown) => rule({ from: [{ source }] });
const to = (operation: unknown) => rule({ to: [{ operation }] });
const ra = (jwtRule: unknown) => ({
  apiVersion: 'security.istio.io/v1',
  kind: 'RequestAuthentication',
  metadata: { name: 'r' },
  spec: { jwtRules: [jwtRule] },
});

describe('loadPolicies: errors carry code and location {document, field}', () => {
  const cases: [string, object, PolicyErrorCode, string | undefined][] = [
    // unknown fields
    ['unknown spec field', ap({ rulez: [] }), 'ERR_POLICY_FIELD', 'spec.rulez'],
    ['unknown rule field', rule({ form: [] }), 'ERR_POLICY_FIELD', 'spec.rules[0].form'],
    [
      'unknown from[] field',
      rule({ from: [{ source: { principals: ['a'] }, extra: 1 }] }),
      'ERR_POLICY_FIELD',
      'spec.rules[0].from[0].extra',
    ],
    [
      'unknown source field (typo)',
      from({ principal: ['a'] }),
      'ERR_POLICY_FIELD',
      'spec.rules[0].from[0].source.principal',
    ],
    [
      'unknown operation field',
      to({ method: ['GET'] }),
      'ERR_POLICY_FIELD',
      'spec.rules[0].to[0].operation.method',
    ],
    [
      'unknown selector field',
      ap({ selector: { labels: { a: 'b' } } }),
      'ERR_POLICY_FIELD',
      'spec.selector.labels',
    ],
    [
      'unknown jwtRule field',
      ra({ issuer: 'i', audience: ['a'] }),
      'ERR_POLICY_FIELD',
      'spec.jwtRules[0].audience',
    ],
    ['rules not a list', ap({ rules: {} }), 'ERR_POLICY_FIELD', 'spec.rules'],
    ['rule not an object', ap({ rules: ['x'] }), 'ERR_POLICY_FIELD', 'spec.rules[0]'],
    [
      'from[] without source',
      rule({ from: [{}] }),
      'ERR_POLICY_FIELD',
      'spec.rules[0].from[0].source',
    ],
    ['spec not an object', ap('x'), 'ERR_POLICY_FIELD', 'spec'],
    [
      'metadata missing',
      { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', spec: {} },
      'ERR_POLICY_FIELD',
      'metadata',
    ],
    // empty and invalid values
    ['empty source', from({}), 'ERR_POLICY_VALUE', 'spec.rules[0].from[0].source'],
    ['empty operation', to({}), 'ERR_POLICY_VALUE', 'spec.rules[0].to[0].operation'],
    ['from: []', rule({ from: [] }), 'ERR_POLICY_VALUE', 'spec.rules[0].from'],
    ['to: []', rule({ to: [] }), 'ERR_POLICY_VALUE', 'spec.rules[0].to'],
    [
      'from not a list',
      rule({ from: { source: { principals: ['a'] } } }),
      'ERR_POLICY_VALUE',
      'spec.rules[0].from',
    ],
    [
      'empty list of paths',
      to({ paths: [] }),
      'ERR_POLICY_VALUE',
      'spec.rules[0].to[0].operation.paths',
    ],
    [
      'string instead of list',
      to({ methods: 'GET' }),
      'ERR_POLICY_VALUE',
      'spec.rules[0].to[0].operation.methods',
    ],
    [
      'port not a number',
      to({ ports: ['http'] }),
      'ERR_POLICY_VALUE',
      'spec.rules[0].to[0].operation.ports[0]',
    ],
    [
      'port too large',
      to({ ports: ['80', '65536'] }),
      'ERR_POLICY_VALUE',
      'spec.rules[0].to[0].operation.ports[1]',
    ],
    [
      'negative port',
      to({ notPorts: ['-1'] }),
      'ERR_POLICY_VALUE',
      'spec.rules[0].to[0].operation.notPorts[0]',
    ],
    [
      'port with space',
      to({ ports: [' 80'] }),
      'ERR_POLICY_VALUE',
      'spec.rules[0].to[0].operation.ports[0]',
    ],
    [
      'port range',
      to({ ports: ['80-90'] }),
      'ERR_POLICY_VALUE',
      'spec.rules[0].to[0].operation.ports[0]',
    ],
    ['lower-case action', ap({ action: 'deny', rules: [{}] }), 'ERR_POLICY_VALUE', 'spec.action'],
    ['unknown action', ap({ action: 'LOG', rules: [{}] }), 'ERR_POLICY_VALUE', 'spec.action'],
    ['DENY without rules', ap({ action: 'DENY' }), 'ERR_POLICY_VALUE', 'spec.rules'],
    ['DENY with rules: []', ap({ action: 'DENY', rules: [] }), 'ERR_POLICY_VALUE', 'spec.rules'],
    ['metadata.name missing', ap({}, { metadata: {} }), 'ERR_POLICY_VALUE', 'metadata.name'],
    [
      'metadata.namespace empty',
      ap({}, { metadata: { name: 'p', namespace: '' } }),
      'ERR_POLICY_VALUE',
      'metadata.namespace',
    ],
    [
      'label value not a string',
      ap({ selector: { matchLabels: { app: 1 } } }),
      'ERR_POLICY_VALUE',
      'spec.selector.matchLabels.app',
    ],
    [
      'jwtRule without issuer',
      ra({ jwksUri: 'https://i/jwks' }),
      'ERR_POLICY_VALUE',
      'spec.jwtRules[0].issuer',
    ],
    [
      'jwksUri not a URL',
      ra({ issuer: 'i', jwksUri: 'not a url' }),
      'ERR_POLICY_VALUE',
      'spec.jwtRules[0].jwksUri',
    ],
    // kinds
    ['unsupported kind', { ...ap({}), kind: 'Sidecar' }, 'ERR_POLICY_KIND', 'kind'],
    ['missing kind', { ...ap({}), kind: undefined }, 'ERR_POLICY_KIND', 'kind'],
    [
      'other API group',
      { ...ap({}), apiVersion: 'networking.istio.io/v1', kind: 'VirtualService' },
      'ERR_POLICY_KIND',
      'apiVersion',
    ],
    [
      'unknown version',
      { ...ap({}), apiVersion: 'security.istio.io/v2' },
      'ERR_POLICY_KIND',
      'apiVersion',
    ],
    ['missing apiVersion', { ...ap({}), apiVersion: undefined }, 'ERR_POLICY_KIND', 'apiVersion'],
    // refused rather than silently ignored
    // CUSTOM: validated as Istio does.
    [
      'CUSTOM without provider',
      ap({ action: 'CUSTOM', rules: [{}] }),
      'ERR_POLICY_VALUE',
      'spec.provider',
    ],
    [
      'provider without CUSTOM',
      ap({ action: 'ALLOW', provider: { name: 'ext' }, rules: [{}] }),
      'ERR_POLICY_VALUE',
      'spec.provider',
    ],
    // Formerly refused as unsupported; now validated as Istio does.
    [
      'when condition with an unknown key',
      rule({ when: [{ key: 'request.foo', values: ['a'] }] }),
      'ERR_POLICY_VALUE',
      'spec.rules[0].when[0].key',
    ],
    [
      'when condition without values',
      rule({ when: [{ key: 'request.headers[x]' }] }),
      'ERR_POLICY_VALUE',
      'spec.rules[0].when[0]',
    ],
    [
      'ipBlocks not an IP',
      from({ ipBlocks: ['10.0.0.0/33'] }),
      'ERR_POLICY_VALUE',
      'spec.rules[0].from[0].source.ipBlocks[0]',
    ],
    [
      'notIpBlocks not an IP',
      from({ notIpBlocks: ['10.0.0.0/8', 'ten'] }),
      'ERR_POLICY_VALUE',
      'spec.rules[0].from[0].source.notIpBlocks[1]',
    ],
    [
      'remoteIpBlocks not an IP',
      from({ remoteIpBlocks: ['1.2.3'] }),
      'ERR_POLICY_VALUE',
      'spec.rules[0].from[0].source.remoteIpBlocks[0]',
    ],
    [
      'serviceAccounts with a wildcard',
      from({ serviceAccounts: ['ns/*'] }),
      'ERR_POLICY_VALUE',
      'spec.rules[0].from[0].source.serviceAccounts[0]',
    ],
    [
      'path template with {** } not last',
      to({ paths: ['/a/{**}/{*}'] }),
      'ERR_POLICY_VALUE',
      'spec.rules[0].to[0].operation.paths[0]',
    ],
    [
      'jwks without keys',
      ra({ issuer: 'i', jwks: '{}' }),
      'ERR_POLICY_VALUE',
      'spec.jwtRules[0].jwks',
    ],
    ['jwks not JSON', ra({ issuer: 'i', jwks: '{' }), 'ERR_POLICY_VALUE', 'spec.jwtRules[0].jwks'],
    [
      'jwks and jwksUri together',
      ra({ issuer: 'i', jwksUri: 'https://i/jwks', jwks: '{"keys":[{"kty":"EC"}]}' }),
      'ERR_POLICY_VALUE',
      'spec.jwtRules[0].jwks',
    ],
    [
      'fromHeaders name that is not a header name',
      ra({ issuer: 'i', fromHeaders: [{ name: 'x y' }] }),
      'ERR_POLICY_VALUE',
      'spec.jwtRules[0].fromHeaders[0].name',
    ],
    [
      'outputClaimToHeaders without claim',
      ra({ issuer: 'i', outputClaimToHeaders: [{ header: 'x-sub' }] }),
      'ERR_POLICY_VALUE',
      'spec.jwtRules[0].outputClaimToHeaders[0].claim',
    ],
    [
      'timeout without unit',
      ra({ issuer: 'i', timeout: '5' }),
      'ERR_POLICY_VALUE',
      'spec.jwtRules[0].timeout',
    ],
  ];

  it.each(cases)('%s → %s at %s', (_name, doc, code, field) => {
    const error = loadError(doc);
    expect(error.code).toBe(code);
    expect(error.location).toEqual({ document: 0, ...(field === undefined ? {} : { field }) });
  });

  // Bad list items: the code and the list are named (the exact index syntax is checked below).
  it.each<[string, object, string, number]>([
    [
      'empty string principal',
      from({ principals: [''] }),
      'spec.rules[0].from[0].source.principals',
      0,
    ],
    [
      'empty string in notNamespaces',
      from({ notNamespaces: ['a', ''] }),
      'spec.rules[0].from[0].source.notNamespaces',
      1,
    ],
    ['empty string host', to({ hosts: [''] }), 'spec.rules[0].to[0].operation.hosts', 0],
    ['non-string method', to({ methods: [1] }), 'spec.rules[0].to[0].operation.methods', 0],
    ['port as YAML number', to({ ports: [8080] }), 'spec.rules[0].to[0].operation.ports', 0],
    ['empty audience', ra({ issuer: 'i', audiences: [''] }), 'spec.jwtRules[0].audiences', 0],
  ])('%s → ERR_POLICY_VALUE in %s', (_name, doc, list, index) => {
    const error = loadError(doc);
    expect(error.code).toBe('ERR_POLICY_VALUE');
    expect(error.location.document).toBe(0);
    expect(error.location.field?.startsWith(list)).toBe(true);
    expect(error.location.field).toContain(`[${index}]`);
  });

  it('a bad list item is located as `list[i]`, like `ports[1]` and `rules[0]` (no `.` before the index)', () => {
    expect(loadError(to({ ports: ['80', 'x'] })).location.field).toBe(
      'spec.rules[0].to[0].operation.ports[1]',
    );
    expect(loadError(from({ principals: ['a', ''] })).location.field).toBe(
      'spec.rules[0].from[0].source.principals[1]',
    );
  });

  it('a document that is not an object is refused', () => {
    const error = loadError('just a string\n');
    expect(error.code).toBe('ERR_POLICY_FIELD');
    expect(error.location).toEqual({ document: 0 });
    expect(loadError([42]).code).toBe('ERR_POLICY_FIELD');
  });

  it('names the document index of the failing document', () => {
    const yaml = `${MULTI_DOC}\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: bad}\nspec:\n  rules:\n    - from: []\n`;
    const error = loadError(yaml);
    expect(error.code).toBe('ERR_POLICY_VALUE');
    // The MULTI_DOC trailing `---` starts an empty document 3; the bad one is document 3 too.
    expect(error.location.field).toBe('spec.rules[0].from');
    expect(error.location.document).toBe(3);
    const inArray = loadError([ap({ rules: [{}] }), ap({ rules: [{}] }), ap({ action: 'DENY' })]);
    expect(inArray.location).toEqual({ document: 2, field: 'spec.rules' });
  });

  it('names the file, and puts the location in the message', () => {
    const error = loadError('apiVersion: security.istio.io/v1\nkind: Nope\n', {
      file: 'policies/p.yaml',
    });
    expect(error.code).toBe('ERR_POLICY_KIND');
    expect(error.location).toEqual<PolicyErrorLocation>({
      file: 'policies/p.yaml',
      document: 0,
      field: 'kind',
    });
    expect(error.message).toContain('policies/p.yaml');
    expect(error.message).toContain('document 0');
    expect(error.message).toContain('kind');
  });

  it.each([
    [
      'unclosed flow sequence',
      'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nspec: {rules: [\n',
      0,
    ],
    ['bad indentation', 'a:\n  b: 1\n c: 2\n', 0],
    [
      'duplicate key',
      'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nkind: AuthorizationPolicy\n',
      0,
    ],
    [
      'error in the second document',
      `${'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: a}\n'}---\nfoo: [\n`,
      1,
    ],
  ])('invalid YAML (%s) → ERR_POLICY_PARSE', (_name, yaml, document) => {
    const error = loadError(yaml, { file: 'x.yaml' });
    expect(error.code).toBe('ERR_POLICY_PARSE');
    expect(error.location).toEqual({ file: 'x.yaml', document });
  });

  it('an unknown top-level field (a misspelled `spec`) is a load error, not silently ignored (istio-semantics §11.4)', () => {
    // `sepc` instead of `spec`: the DENY below must not load as an ALLOW policy with no rules.
    const yaml =
      'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: deny-admin}\nsepc:\n  action: DENY\n  rules: [{to: [{operation: {paths: ["/admin"]}}]}]\n';
    const error = loadError(yaml);
    expect(error.code).toBe('ERR_POLICY_FIELD');
    expect(error.location).toEqual({ document: 0, field: 'sepc' });
  });

  it('jwksUri: only http and https are accepted (Istio ParseJwksURI)', () => {
    for (const jwksUri of [
      'file:///etc/jwks.json',
      'ftp://issuer.test/jwks.json',
      'data:application/json,{"keys":[]}',
    ]) {
      const error = loadError(ra({ issuer: 'https://issuer.test', jwksUri }));
      expect(error.code, jwksUri).toBe('ERR_POLICY_VALUE');
      expect(error.location).toEqual({ document: 0, field: 'spec.jwtRules[0].jwksUri' });
    }
    expect(
      loadPolicies(ra({ issuer: 'i', jwksUri: 'http://127.0.0.1:8080/jwks' }))
        .requestAuthentications,
    ).toHaveLength(1);
  });

  it('a dry-run annotation that is not a valid boolean string is an invalid value, not silently ignored', () => {
    // Kubernetes annotations are strings: unquoted YAML `true` is a boolean, and Istio's
    // validation refuses values strconv.ParseBool cannot read ("yes"). Loaded as is, the policy
    // is silently enforced although the author asked for dry-run.
    const doc = (value: string) =>
      `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: shadow\n  annotations:\n    istio.io/dry-run: ${value}\nspec:\n  action: DENY\n  rules: [{}]\n`;
    for (const value of ['true', '"yes"']) {
      const error = loadError(doc(value));
      expect(error.code, value).toBe('ERR_POLICY_VALUE');
      expect(error.location.document).toBe(0);
      expect(error.location.field).toMatch(/^metadata\.annotations/);
    }
  });
});

describe('loadPolicies: every JWTRule field', () => {
  it('parses locations, outputs, forwardOriginalToken, timeout and inline jwks', () => {
    const set = loadPolicies({
      apiVersion: 'security.istio.io/v1',
      kind: 'RequestAuthentication',
      metadata: { name: 'r' },
      spec: {
        jwtRules: [
          {
            issuer: 'https://i.test',
            jwks: '{"keys":[{"kty":"EC","crv":"P-256","x":"x","y":"y","kid":"k1"}]}',
            fromHeaders: [{ name: 'X-Jwt-Assertion' }, { name: 'Authorization', prefix: 'Token ' }],
            fromParams: ['jwt'],
            fromCookies: ['session'],
            outputPayloadToHeader: 'X-Jwt-Payload',
            outputClaimToHeaders: [{ header: 'x-sub', claim: 'sub' }],
            forwardOriginalToken: true,
            timeout: '1.5s',
          },
        ],
      },
    });
    expect(set.requestAuthentications[0]?.spec.jwtRules?.[0]).toEqual({
      issuer: 'https://i.test',
      jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid: 'k1' }] },
      locations: [
        { header: 'x-jwt-assertion', prefix: '' },
        { header: 'authorization', prefix: 'Token ' },
        { param: 'jwt' },
        { cookie: 'session' },
      ],
      outputPayloadToHeader: 'x-jwt-payload',
      outputClaimToHeaders: [{ header: 'x-sub', claim: 'sub' }],
      forwardOriginalToken: true,
      timeoutMs: 1500,
    });
  });
});
