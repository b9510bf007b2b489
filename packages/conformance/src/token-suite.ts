/**
 * Adapter conformance: bearer tokens (RequestAuthentication semantics) over real mTLS against a
 * real OpenID Provider (oidc-provider on loopback). Discovery, RFC 9068 client_credentials tokens,
 * certificate-bound tokens (RFC 8705), key rotation, provider outage (stale keys, 503, recovery),
 * a flood of unknown kids, and a table of malformed and malicious tokens, each refused with its
 * reason. Each adapter's test file calls {@link describeTokenSuite} with the same factory as
 * {@link describeSvidRuleSuite}.
 *
 * Composed of: `token-fixtures.ts` (constants, hand-made JWS, local issuer, switchable fetch),
 * `token-harness.ts` (suite setup and request helpers), `token-provider-suite.ts` (tokens from
 * the OP), `token-malicious-cases.ts` (the malformed/malicious token table) and
 * `token-jwks-suite.ts` (JWKS availability).
 */
import type { AdapterServerFactory } from './svid-rule-suite.js';
import { createTokenHarness } from './token-harness.js';
import { describeJwksAvailability } from './token-jwks-suite.js';
import { describeProviderTokens } from './token-provider-suite.js';

/** Registers the token suite for one adapter. */
export function describeTokenSuite(adapter: string, start: AdapterServerFactory): void {
  const t = createTokenHarness(start);
  describeProviderTokens(adapter, t);
  describeJwksAvailability(adapter, t);
}
