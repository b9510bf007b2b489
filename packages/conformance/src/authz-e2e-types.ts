/**
 * Types of the authorization end-to-end case table (`describeAuthorizationE2eSuite`): a group is
 * one server (one policy set, one peer-authentication mode); a case is one raw request and the
 * expected answer.
 */

/** Values only known once the suite's fixtures and the group's server are up. */
export interface E2eContext {
  /** The server's real listening port (`destination.port`). */
  port: number;
  /** Issuer of the real OpenID Provider (`https://localhost:<port>`). */
  opIssuer: string;
  /** Issuer of the local JWKS issuer (`http://127.0.0.1:<port>/local-issuer`). */
  localIssuer: string;
  localJwksUri: string;
  /** `http://127.0.0.1:<port>`: a prefix of `localIssuer` (issuer confusion). */
  localOrigin: string;
  audience: string;
}

/** Callers: SPIFFE X.509-SVIDs of the suite's CA, or no client certificate. */
export type E2ePeer = 'checkout' | 'frontend' | 'none';

/**
 * The bearer token of a request: an access token from the real OP (client credentials, `sub` =
 * client id `checkout`, `scope` as requested), a token of the local issuer (ES256, verified
 * against its JWKS) with extra or overridden claims, or one signed by a key nobody trusts for an
 * issuer no rule names.
 */
export type E2eToken =
  | { from: 'op'; scope?: string }
  | { from: 'local'; claims?: Record<string, unknown> }
  | { from: 'unknown-issuer' };

export interface E2eCase {
  /** Test title; the source it follows is cited in a comment above the case. */
  name: string;
  /** Default `checkout`. */
  peer?: E2ePeer;
  token?: E2eToken;
  /** Send the `Authorization` header twice. */
  authorizationTwice?: boolean;
  /** Default `GET`, sent as written (`get` stays lower case). */
  method?: string;
  /** Raw request-target, sent unmodified. */
  path: string;
  /**
   * Extra header lines, in order, repeated names allowed. A `host` entry replaces the default
   * `Host: localhost:<port>`; `{port}` in a value is replaced by the server's port.
   */
  headers?: [string, string][];
  /**
   * `200` and the request-target the handler saw (`req.url`: normalized path and query), or a
   * denial status and its `reason` (`undefined` when Node's HTTP parser answers before meshless).
   */
  expect: { status: 200; seen: string } | { status: 400 | 401 | 403; reason: string | undefined };
}

export interface E2eGroup {
  /** describe() title. */
  title: string;
  /** Peer authentication mode of the group's guard. */
  mtls: 'STRICT' | 'PERMISSIVE';
  /** Istio YAML (RequestAuthentication and AuthorizationPolicy documents). */
  policies(ctx: E2eContext): string;
  cases: E2eCase[];
  /**
   * Lint codes the guard must report for the group's policies: where a case is faithful to an
   * Istio trap, meshless also warns ([SPEC §11.2]).
   */
  lints?: string[];
}

/** `200`, and the handler saw `seen`. */
export const ok = (seen: string): E2eCase['expect'] => ({ status: 200, seen });
/** 403 from the authorization policies (`authz_deny_policy` or `authz_no_allow_match`). */
export const denied = (
  reason: 'authz_deny_policy' | 'authz_no_allow_match',
): E2eCase['expect'] => ({
  status: 403,
  reason,
});
