import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { exportJWK, generateKeyPair } from 'jose';
import type {
  Adapter,
  AdapterPayload,
  ClientMetadata,
  Configuration,
  JWK,
  KoaContextWithOIDC,
} from 'oidc-provider';
import { createTestCa, type TestCa } from './ca.js';
import { createCaFetch } from './https-fetch.js';
import { errors, Provider } from './oidc-provider-module.js';
import { uriSansFromDer } from './x509.js';

/** A client of the test OP: `client_secret_basic`, or `tls_client_auth` on a SPIFFE URI SAN. */
export type OidcClient =
  { clientId: string; clientSecret: string } | { clientId: string; tlsClientAuthSanUri: string };

/** Options of {@link startOidcProvider}. */
export interface StartOidcProviderOptions {
  /** CA that issues the OP's server certificate. Default: a fresh CA for `oidc.test`. */
  ca?: TestCa;
  /** Trusted root PEM(s) for client certificates (tls_client_auth). Default `ca.rootPem`. */
  clientCa?: string | string[];
  /** The single resource indicator / `aud` of issued access tokens. */
  audience: string;
  /** Scope(s) of the resource server, space-separated. Default `payments:read`. */
  scope?: string;
  /** Registered clients. Default `[DEFAULT_OIDC_CLIENT]`. */
  clients?: OidcClient[];
  /** Access token lifetime in seconds. Default 300. */
  accessTokenTtlSec?: number;
}

/** Options of {@link OidcProviderHarness.getToken}. */
export interface GetTokenOptions {
  /** Client id. */
  clientId: string;
  /** Secret for `client_secret_basic`; omit for `tls_client_auth`. */
  clientSecret?: string;
  /** Resource indicator. Default: the harness audience. */
  resource?: string;
  /** Requested scope. Default: the harness scope. `''` requests none. */
  scope?: string;
  /** Client certificate for `tls_client_auth` (pass `chainPem` when the CA has an intermediate). */
  cert?: { certPem: string; keyPem: string };
}

/** A running in-process OpenID Provider (oidc-provider 9) on `https://localhost:<port>`. */
export interface OidcProviderHarness {
  /** `https://localhost:<port>` (the server cert has DNS SAN localhost and IP SAN 127.0.0.1). */
  readonly issuer: string;
  /** `jwks_uri` from the discovery document. */
  readonly jwksUri: string;
  /** `token_endpoint` from the discovery document. */
  readonly tokenEndpoint: string;
  /** Root PEM that signed the OP's server certificate. */
  readonly caPem: string;
  /** A fetch trusting `caPem` (for discovery and JWKS: `{ [customFetch]: harness.fetch }`). */
  readonly fetch: typeof fetch;
  /** The registered clients. */
  readonly clients: readonly OidcClient[];
  /** `kid` of the key currently signing access tokens. */
  readonly currentKid: string;
  /**
   * Runs client_credentials at the token endpoint and returns the `access_token` (an RFC 9068
   * `at+jwt`, ES256). Rejects with {@link OidcTokenError} (status + OAuth error code, never the
   * secret) on failure.
   */
  getToken(options: GetTokenOptions): Promise<string>;
  /**
   * Adds a new ES256 key, first in the JWKS, and signs new tokens with it; older keys stay
   * published so earlier tokens still verify. Returns the new `kid`.
   */
  rotateSigningKey(): Promise<string>;
  /** Stops the server and drops open connections. */
  close(): Promise<void>;
}

/** The client registered when `clients` is omitted. */
export const DEFAULT_OIDC_CLIENT = {
  clientId: 'test-client',
  clientSecret: 'test-client-secret-0123456789abcdef0123456789',
} as const satisfies OidcClient;

/** A failed token request: HTTP status and OAuth `error` code. Never contains the secret. */
export class OidcTokenError extends Error {
  /** HTTP status of the token endpoint response. */
  readonly status: number;
  /** OAuth 2.0 `error` code, e.g. `invalid_client`, `invalid_target`. */
  readonly code: string;
  /** OAuth 2.0 `error_description`, if any. */
  readonly description: string | undefined;

  /** @param status - HTTP status. @param code - OAuth error. @param description - description. */
  constructor(status: number, code: string, description?: string) {
    super(`token request failed: ${status} ${code}${description ? `: ${description}` : ''}`);
    this.name = 'OidcTokenError';
    this.status = status;
    this.code = code;
    this.description = description;
  }
}

/** Minimal in-memory adapter (avoids the quick-start adapter and its warning). */
function createMapAdapter(): new (name: string) => Adapter {
  const store = new Map<string, AdapterPayload>();
  return class MapAdapter implements Adapter {
    readonly #name: string;
    constructor(name: string) {
      this.#name = name;
    }
    #key(id: string): string {
      return `${this.#name}:${id}`;
    }
    upsert(id: string, payload: AdapterPayload): Promise<void> {
      store.set(this.#key(id), payload);
      return Promise.resolve();
    }
    find(id: string): Promise<AdapterPayload | undefined> {
      return Promise.resolve(store.get(this.#key(id)));
    }
    findByUserCode(): Promise<undefined> {
      return Promise.resolve(undefined);
    }
    findByUid(): Promise<undefined> {
      return Promise.resolve(undefined);
    }
    consume(id: string): Promise<void> {
      const payload = store.get(this.#key(id));
      if (payload) payload.consumed = Math.floor(Date.now() / 1000);
      return Promise.resolve();
    }
    destroy(id: string): Promise<void> {
      store.delete(this.#key(id));
      return Promise.resolve();
    }
    revokeByGrantId(grantId: string): Promise<void> {
      for (const [key, payload] of store) if (payload.grantId === grantId) store.delete(key);
      return Promise.resolve();
    }
  };
}

async function newSigningKey(kid: string): Promise<JWK> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: 'ES256', use: 'sig' };
}

function toClientMetadata(client: OidcClient): ClientMetadata {
  const common = { grant_types: ['client_credentials'], response_types: [], redirect_uris: [] };
  if ('clientSecret' in client) {
    return {
      ...common,
      client_id: client.clientId,
      client_secret: client.clientSecret,
      token_endpoint_auth_method: 'client_secret_basic',
    };
  }
  return {
    ...common,
    client_id: client.clientId,
    token_endpoint_auth_method: 'tls_client_auth',
    tls_client_auth_san_uri: client.tlsClientAuthSanUri,
    tls_client_certificate_bound_access_tokens: true,
  };
}

function peerSocket(ctx: KoaContextWithOIDC): TLSSocket {
  return ctx.req.socket as TLSSocket;
}

interface ProviderSettings {
  issuer: string;
  audience: string;
  scope: string;
  ttl: number;
  clients: ClientMetadata[];
  keys: JWK[];
  kid: string;
  adapter: new (name: string) => Adapter;
}

function buildProvider(s: ProviderSettings): InstanceType<typeof Provider> {
  const configuration: Configuration = {
    adapter: s.adapter,
    jwks: { keys: s.keys },
    clients: s.clients,
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    clientAuthMethods: ['client_secret_basic', 'tls_client_auth', 'self_signed_tls_client_auth'],
    responseTypes: ['none'],
    cookies: { keys: ['meshless-testing-cookie-key-0123456789'] },
    ttl: { ClientCredentials: s.ttl },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => s.audience,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource) => {
          if (resource !== s.audience) throw new errors.InvalidTarget();
          return {
            scope: s.scope,
            audience: s.audience,
            accessTokenTTL: s.ttl,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'ES256', kid: s.kid } },
          };
        },
      },
      mTLS: {
        enabled: true,
        certificateBoundAccessTokens: true,
        tlsClientAuth: true,
        selfSignedTlsClientAuth: true,
        getCertificate: (ctx) => peerSocket(ctx).getPeerX509Certificate(),
        certificateAuthorized: (ctx) => peerSocket(ctx).authorized,
        certificateSubjectMatches: (ctx, property, expected) => {
          if (property !== 'tls_client_auth_san_uri') return false;
          const cert = peerSocket(ctx).getPeerX509Certificate();
          return cert !== undefined && uriSansFromDer(cert.raw).includes(expected);
        },
      },
    },
  };
  return new Provider(s.issuer, configuration);
}

interface TokenResponse {
  access_token?: unknown;
  error?: unknown;
  error_description?: unknown;
}

function formEncode(value: string): string {
  return encodeURIComponent(value).replace(/%20/g, '+');
}

/**
 * Starts a real OpenID Provider (oidc-provider 9) in-process, over HTTPS on 127.0.0.1 port 0,
 * issuing client_credentials access tokens as RFC 9068 `at+jwt` (ES256) for one resource
 * (`audience`). Supports `client_secret_basic`, and `tls_client_auth` on the SPIFFE URI SAN with
 * certificate-bound tokens (`cnf["x5t#S256"]`). The TLS server requests (but does not require) a
 * client certificate, trusting `clientCa`.
 *
 * @example
 * const op = await startOidcProvider({ audience: 'https://payments.test' });
 * const token = await op.getToken(DEFAULT_OIDC_CLIENT);
 * const jwks = createRemoteJWKSet(new URL(op.jwksUri), { [customFetch]: op.fetch });
 */
export async function startOidcProvider(
  options: StartOidcProviderOptions,
): Promise<OidcProviderHarness> {
  const ca = options.ca ?? (await createTestCa({ trustDomain: 'oidc.test' }));
  const serverSvid = await ca.issueSvid({
    spiffeId: `spiffe://${ca.trustDomain}/oidc-provider`,
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
  });
  const server = https.createServer({
    key: serverSvid.keyPem,
    cert: serverSvid.chainPem,
    ca: options.clientCa ?? ca.rootPem,
    requestCert: true,
    rejectUnauthorized: false,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  const clients = options.clients ?? [DEFAULT_OIDC_CLIENT];
  const settings: ProviderSettings = {
    issuer: `https://localhost:${port}`,
    audience: options.audience,
    scope: options.scope ?? 'payments:read',
    ttl: options.accessTokenTtlSec ?? 300,
    clients: clients.map(toClientMetadata),
    keys: [await newSigningKey('k1')],
    kid: 'k1',
    adapter: createMapAdapter(),
  };
  let handler = buildProvider(settings).callback();
  server.on('request', (req, res) => void handler(req, res));

  const caFetch = createCaFetch(ca.rootPem);
  let discovery: { jwks_uri?: unknown; token_endpoint?: unknown };
  try {
    const res = await caFetch(`${settings.issuer}/.well-known/openid-configuration`);
    discovery = (await res.json()) as typeof discovery;
  } catch (error) {
    server.close();
    throw error;
  }
  if (typeof discovery.jwks_uri !== 'string' || typeof discovery.token_endpoint !== 'string') {
    server.close();
    throw new Error('oidc-provider discovery lacks jwks_uri or token_endpoint');
  }
  const jwksUri = discovery.jwks_uri;
  const tokenEndpoint = discovery.token_endpoint;

  return {
    issuer: settings.issuer,
    jwksUri,
    tokenEndpoint,
    caPem: ca.rootPem,
    fetch: caFetch,
    clients,
    get currentKid() {
      return settings.kid;
    },
    async getToken(tokenOptions: GetTokenOptions): Promise<string> {
      const body = new URLSearchParams({
        grant_type: 'client_credentials',
        resource: tokenOptions.resource ?? settings.audience,
      });
      const scope = tokenOptions.scope ?? settings.scope;
      if (scope !== '') body.set('scope', scope);
      const headers: Record<string, string> = { accept: 'application/json' };
      if (tokenOptions.clientSecret !== undefined) {
        const credentials = `${formEncode(tokenOptions.clientId)}:${formEncode(tokenOptions.clientSecret)}`;
        headers.authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
      } else {
        body.set('client_id', tokenOptions.clientId);
      }
      const doFetch =
        tokenOptions.cert === undefined
          ? caFetch
          : createCaFetch(ca.rootPem, {
              cert: tokenOptions.cert.certPem,
              key: tokenOptions.cert.keyPem,
            });
      const res = await doFetch(tokenEndpoint, { method: 'POST', headers, body });
      const json = (await res.json().catch(() => ({}))) as TokenResponse;
      if (res.status !== 200 || typeof json.access_token !== 'string') {
        throw new OidcTokenError(
          res.status,
          typeof json.error === 'string' ? json.error : 'invalid_response',
          typeof json.error_description === 'string' ? json.error_description : undefined,
        );
      }
      return json.access_token;
    },
    async rotateSigningKey(): Promise<string> {
      const kid = `k${settings.keys.length + 1}`;
      settings.keys = [await newSigningKey(kid), ...settings.keys];
      settings.kid = kid;
      handler = buildProvider(settings).callback();
      return kid;
    },
    close(): Promise<void> {
      return new Promise((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
