/**
 * The part-A rules about the chain and the trust domain (A13–A22) as cases; the leaf rules
 * (A1–A12) are in svid-rule-cases.ts, which returns both lists in rule order.
 */
import { x509 } from './x509.js';
import {
  HOUR_MS,
  SERVER_SEES_CLIENT_CHAIN,
  DENIED_PATH,
  certificatePemOf,
  leafOnly,
  withChain,
  issueIntermediate,
  ok,
  denied,
  tamperSignature,
  type SvidRuleCase,
} from './svid-rule-pki.js';

/** Cases A13–A22. */
export function svidChainRuleCases(): SvidRuleCase[] {
  return [
    {
      rule: 'A13',
      name: '(a) leaf signed by another CA that also calls itself td.test',
      profile: 'td',
      build: async (p) => leafOnly(await p.rogueTd.issueSvid()),
      expect: denied('mtls_unverified', /TLS verification failed/),
    },
    {
      rule: 'A13',
      name: '(b) leaf spiffe://other.test/x signed by R(td.test), no bundle for other.test',
      profile: 'td',
      build: async (p) => leafOnly(await p.td.issueSvid({ spiffeId: 'spiffe://other.test/x' })),
      expect: denied('mtls_untrusted_domain', /no trust bundle for trust domain other\.test/),
    },
    {
      // OpenSSL accepts it (R(a.test) is in the server's ca): the guard binds the leaf to b.test.
      rule: 'A13',
      name: '(c) leaf spiffe://b.test/x signed by R(a.test)',
      profile: 'federation',
      build: async (p) => leafOnly(await p.a.issueSvid({ spiffeId: 'spiffe://b.test/x' })),
      expect: denied('mtls_untrusted_domain', /trust domain b\.test/),
    },
    {
      rule: 'A13',
      name: '(c) leaf spiffe://b.test/x signed by an intermediate of R(a.test)',
      profile: 'federation',
      build: async (p) => {
        const int = await issueIntermediate(p.a, 'a.test intermediate');
        return withChain(await p.a.issueSvid({ spiffeId: 'spiffe://b.test/x', issuer: int }), int);
      },
      expect: denied('mtls_untrusted_domain', /trust domain b\.test/),
    },
    {
      rule: 'A13',
      name: '(d) leaf spiffe://b.test/x signed by R(b.test) is accepted',
      profile: 'federation',
      build: async (p) => leafOnly(await p.b.issueSvid({ spiffeId: 'spiffe://b.test/x' })),
      expect: ok('spiffe://b.test/x'),
    },
    {
      // The server trusts roots of three trust domains. Node 20 shows the guard the intermediate
      // the client sent, so the path leaf ← I(b) ← R(b) is proven. Node 24 shows only the leaf
      // (nodejs/node#65579): OpenSSL verified a chain to *some* root in `ca`, but which one cannot
      // be shown, and R(td)/R(a) are not b.test roots, so the guard refuses rather than guess.
      rule: 'A13',
      name: 'federation: leaf spiffe://b.test/x issued via an intermediate of R(b.test)',
      profile: 'federation',
      build: async (p) => {
        const int = await issueIntermediate(p.b, 'b.test intermediate');
        return withChain(await p.b.issueSvid({ spiffeId: 'spiffe://b.test/x', issuer: int }), int);
      },
      expect: SERVER_SEES_CLIENT_CHAIN
        ? ok('spiffe://b.test/x')
        : denied('mtls_untrusted_domain', /cannot be shown/),
    },
    {
      rule: 'A14',
      name: 'peer sends [leaf, its own self-signed root]',
      profile: 'td',
      build: async (p) => {
        const leaf = await p.untrusted.issueSvid();
        return { cert: leaf.certPem + p.untrusted.rootPem, key: leaf.keyPem };
      },
      expect: denied('mtls_unverified', /SELF_SIGNED_CERT_IN_CHAIN/),
    },
    {
      rule: 'A14',
      name: 'peer sends [leaf, a self-signed root with the same name as R(td.test)]',
      profile: 'td',
      build: async (p) => {
        const leaf = await p.rogueTd.issueSvid();
        return { cert: leaf.certPem + p.rogueTd.rootPem, key: leaf.keyPem };
      },
      expect: denied('mtls_unverified', /TLS verification failed/),
    },
    {
      rule: 'A15',
      name: 'expired leaf (notAfter = now − 1 h)',
      profile: 'td',
      build: async (p) =>
        leafOnly(
          await p.td.issueSvid({
            notBefore: new Date(Date.now() - 2 * HOUR_MS),
            notAfter: new Date(Date.now() - HOUR_MS),
          }),
        ),
      expect: denied('mtls_unverified', /CERT_HAS_EXPIRED/),
    },
    {
      rule: 'A15',
      name: 'leaf not yet valid (notBefore = now + 1 h)',
      profile: 'td',
      build: async (p) =>
        leafOnly(
          await p.td.issueSvid({
            notBefore: new Date(Date.now() + HOUR_MS),
            notAfter: new Date(Date.now() + 2 * HOUR_MS),
          }),
        ),
      expect: denied('mtls_unverified', /CERT_NOT_YET_VALID/),
    },
    {
      rule: 'A16',
      name: '(a) intermediate without cA',
      profile: 'td',
      build: async (p) => {
        const int = await issueIntermediate(p.td, 'td.test no-ca intermediate', { isCa: false });
        return withChain(await p.td.issueSvid({ issuer: int }), int);
      },
      expect: denied('mtls_unverified', /TLS verification failed/),
    },
    {
      rule: 'A16',
      name: '(b) intermediate with cA but KeyUsage cRLSign|digitalSignature (no keyCertSign)',
      profile: 'td',
      build: async (p) => {
        const int = await issueIntermediate(p.td, 'td.test no-certsign intermediate', {
          keyUsages: x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        });
        return withChain(await p.td.issueSvid({ issuer: int }), int);
      },
      expect: denied('mtls_unverified', /TLS verification failed/),
    },
    {
      rule: 'A16',
      name: '(c) root pathLen 0 → intermediate → leaf',
      profile: 'td',
      build: async (p) => {
        const int = await issueIntermediate(p.td, 'td.test under-pathlen0 intermediate', {
          issuer: p.pathLen0Root,
        });
        return withChain(await p.td.issueSvid({ issuer: int }), int);
      },
      expect: denied('mtls_unverified', /PATH_LENGTH_EXCEEDED/),
    },
    {
      // Both Node versions: on Node 24 only the leaf is visible, but every root the server
      // trusts is a td.test root, so OpenSSL's verification binds the leaf to td.test.
      rule: 'A16',
      name: 'positive: leaf via a good intermediate is accepted',
      profile: 'td',
      build: async (p) => {
        const int = await issueIntermediate(p.td, 'td.test intermediate');
        return withChain(
          await p.td.issueSvid({ spiffeId: 'spiffe://td.test/via-int', issuer: int }),
          int,
        );
      },
      expect: ok('spiffe://td.test/via-int'),
    },
    {
      rule: 'A17',
      name: 'leaf with an unknown critical extension',
      profile: 'td',
      build: async (p) =>
        leafOnly(
          await p.td.issueSvid({
            extraExtensions: [
              new x509.Extension('1.3.6.1.4.1.99999.1', true, new Uint8Array([5, 0])),
            ],
          }),
        ),
      expect: denied('mtls_unverified', /TLS verification failed/),
    },
    {
      // The client's key still matches the public key in the certificate, so the handshake
      // completes; OpenSSL reports the broken CA signature.
      rule: 'A18',
      name: 'leaf whose signature has one byte flipped',
      profile: 'td',
      build: async (p) => {
        const leaf = await p.td.issueSvid();
        return { cert: certificatePemOf(tamperSignature(leaf.certDer)), key: leaf.keyPem };
      },
      expect: denied('mtls_unverified', /CERT_SIGNATURE_FAILURE/),
    },
    {
      rule: 'A19',
      name: 'leaf spiffe://other.test/w outside the root name constraint',
      profile: 'name-constraints',
      build: async (p) =>
        leafOnly(
          await p.td.issueSvid({
            spiffeId: 'spiffe://other.test/w',
            issuer: p.nameConstrainedRoot,
          }),
        ),
      expect: denied('mtls_unverified', /TLS verification failed/),
    },
    {
      rule: 'A19',
      name: 'leaf spiffe://td.test/w inside the root name constraint is accepted',
      profile: 'name-constraints',
      build: async (p) =>
        leafOnly(
          await p.td.issueSvid({ spiffeId: 'spiffe://td.test/w', issuer: p.nameConstrainedRoot }),
        ),
      expect: ok('spiffe://td.test/w'),
    },
    {
      rule: 'A20',
      name: '(a) bundle td.test → [] trusts nothing',
      profile: 'empty',
      build: async (p) => leafOnly(await p.td.issueSvid({ spiffeId: 'spiffe://td.test/workload' })),
      expect: denied('mtls_untrusted_domain', /no trust bundle for trust domain td\.test/),
    },
    {
      // Node renders this SAN as `URI:"spiffe://td.test/a\u002c URI:spiffe://td.test/admin"`: a
      // text parser could see two URIs. Read from the DER, it is one invalid ID.
      rule: 'A21',
      name: 'one URI SAN "spiffe://td.test/a, URI:spiffe://td.test/admin"',
      profile: 'td',
      build: async (p) =>
        leafOnly(
          await p.td.issueSvid({ uris: ['spiffe://td.test/a, URI:spiffe://td.test/admin'] }),
        ),
      expect: denied('mtls_svid_invalid', /not a valid SPIFFE ID/),
    },
    {
      rule: 'A22',
      name: `control: a verified peer on ${DENIED_PATH} is denied by the DENY policy`,
      profile: 'td',
      path: DENIED_PATH,
      build: async (p) => leafOnly(await p.td.issueSvid()),
      expect: denied('authz_deny_policy'),
    },
    {
      rule: 'A22',
      name: `untrusted chain on ${DENIED_PATH}: the chain error decides`,
      profile: 'td',
      path: DENIED_PATH,
      build: async (p) => leafOnly(await p.rogueTd.issueSvid()),
      expect: denied('mtls_unverified', /TLS verification failed/),
    },
    {
      rule: 'A22',
      name: `leaf of an untrusted domain on ${DENIED_PATH}: the binding error decides`,
      profile: 'td',
      path: DENIED_PATH,
      build: async (p) => leafOnly(await p.td.issueSvid({ spiffeId: 'spiffe://other.test/x' })),
      expect: denied('mtls_untrusted_domain'),
    },
  ];
}
