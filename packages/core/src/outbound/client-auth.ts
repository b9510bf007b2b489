import { createPrivateKey, randomUUID, type KeyObject } from 'node:crypto';
import { importJWK, SignJWT, type CryptoKey, type JWK } from 'jose';
import type { X509Source } from '../tls/sources.js';
import { TokenSourceError } from './errors.js';

/** `client_secret_basic` (RFC 6749 §2.3.1, the default) or `client_secret_post`. */
export interface ClientSecretAuthentication {
  method: 'client_secret_basic' | 'client_secret_post';
  clientSecret: string;
}

/**
 * RFC 8705 mutual-TLS client authentication with this workload's X.509-SVID: PKI
 * (`tls_client_auth`, e.g. on the SPIFFE URI SAN) or self-signed. The token is bound to the
 * certificate (`cnf["x5t#S256"]`), so call the resource server with the same SVID.
 */
export interface TlsClientAuthentication {
  method: 'tls_client_auth' | 'self_signed_tls_client_auth';
  /** The workload's SVID (`createWorkloadX509Source`, `createFileX509Source`, ...). */
  x509Source: X509Source;
  /** Roots trusted for the token endpoint's server certificate. Default: Node's CA store. */
  ca?: string | readonly string[];
}

/** RFC 7523 `private_key_jwt`: a short-lived JWT client assertion signed with the client's key. */
export interface PrivateKeyJwtAuthentication {
  method: 'private_key_jwt';
  /** A private key: `KeyObject`, `CryptoKey`, private JWK, or PKCS#8 / PKCS#1 / SEC1 PEM. */
  privateKey: KeyObject | CryptoKey | JWK | string;
  /** Asymmetric JWS algorithm registered for the client, e.g. `ES256`, `RS256`, `EdDSA`. */
  alg: string;
  /** `kid` header, to pick the key in the registered JWKS. */
  kid?: string;
  /** `aud` of the assertion. Default: the token endpoint URL. */
  assertionAudience?: string;
  /** Lifetime of one assertion. Default 60 s. */
  assertionLifetimeSec?: number;
}

/** How the source authenticates to the token endpoint. */
export type ClientAuthentication =
  ClientSecretAuthentication | TlsClientAuthentication | PrivateKeyJwtAuthentication;

/** What a token request adds for client authentication. @internal */
export interface AuthParts {
  readonly headers: Record<string, string>;
  readonly params: Record<string, string>;
}

/** Builds the authentication of one token request (a fresh assertion each time). @internal */
export type Authenticator = (tokenEndpoint: string) => Promise<AuthParts>;

const ASYMMETRIC_ALGS = /^(?:RS(?:256|384|512)|PS(?:256|384|512)|ES(?:256|384|512)|EdDSA|Ed25519)$/;

/** RFC 6749 §2.3.1: id and secret are each form-urlencoded before the Basic encoding. */
function formUrlEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

function config(message: string, cause?: unknown): never {
  throw new TokenSourceError(
    'ERR_TOKEN_SOURCE_CONFIG',
    message,
    cause === undefined ? {} : { cause },
  );
}

function privateKeyLoader(auth: PrivateKeyJwtAuthentication): () => Promise<KeyObject | CryptoKey> {
  const { privateKey, alg } = auth;
  if (typeof privateKey === 'string') {
    let key: KeyObject;
    try {
      key = createPrivateKey(privateKey);
    } catch (cause) {
      return config('private_key_jwt: privateKey is not a private key PEM', cause);
    }
    return () => Promise.resolve(key);
  }
  if (!('kty' in privateKey)) {
    const key = privateKey as KeyObject | CryptoKey;
    if (key.type !== 'private') config('private_key_jwt: privateKey must be a private key');
    return () => Promise.resolve(key);
  }
  const jwk: JWK = privateKey;
  if (jwk.d === undefined) config('private_key_jwt: the JWK has no private part');
  let imported: Promise<KeyObject | CryptoKey> | undefined;
  return () => {
    imported ??= importJWK(jwk, alg).then(
      (key) => {
        if (key instanceof Uint8Array) config('private_key_jwt: the JWK is not asymmetric');
        return key;
      },
      (cause: unknown) => config('private_key_jwt: the JWK cannot be imported', cause),
    );
    return imported;
  };
}

/**
 * Validates the authentication options and returns the per-request authenticator.
 *
 * @throws {TokenSourceError} `ERR_TOKEN_SOURCE_CONFIG`.
 * @internal
 */
export function createAuthenticator(clientId: string, auth: ClientAuthentication): Authenticator {
  switch (auth.method) {
    case 'client_secret_basic': {
      if (typeof auth.clientSecret !== 'string' || auth.clientSecret === '')
        config('client_secret_basic needs a clientSecret');
      const basic = Buffer.from(
        `${formUrlEncode(clientId)}:${formUrlEncode(auth.clientSecret)}`,
      ).toString('base64');
      return () => Promise.resolve({ headers: { authorization: `Basic ${basic}` }, params: {} });
    }
    case 'client_secret_post': {
      if (typeof auth.clientSecret !== 'string' || auth.clientSecret === '')
        config('client_secret_post needs a clientSecret');
      const params = { client_id: clientId, client_secret: auth.clientSecret };
      return () => Promise.resolve({ headers: {}, params });
    }
    case 'tls_client_auth':
    case 'self_signed_tls_client_auth':
      if (typeof auth.x509Source?.getX509Svid !== 'function')
        config(`${auth.method} needs an x509Source`);
      // RFC 8705 §2: the client_id is sent in the request body.
      return () => Promise.resolve({ headers: {}, params: { client_id: clientId } });
    case 'private_key_jwt': {
      if (!ASYMMETRIC_ALGS.test(auth.alg))
        config('private_key_jwt needs an asymmetric alg (RS*, PS*, ES*, EdDSA, Ed25519)');
      const lifetime = auth.assertionLifetimeSec ?? 60;
      if (!(lifetime > 0 && lifetime <= 600))
        config('private_key_jwt: assertionLifetimeSec must be in (0, 600]');
      const loadKey = privateKeyLoader(auth);
      return async (tokenEndpoint) => {
        const now = Math.floor(Date.now() / 1000);
        const assertion = await new SignJWT({})
          .setProtectedHeader({
            alg: auth.alg,
            ...(auth.kid === undefined ? {} : { kid: auth.kid }),
          })
          .setIssuer(clientId)
          .setSubject(clientId)
          .setAudience(auth.assertionAudience ?? tokenEndpoint)
          .setJti(randomUUID())
          .setIssuedAt(now)
          .setExpirationTime(now + lifetime)
          .sign(await loadKey());
        return {
          headers: {},
          params: {
            client_id: clientId,
            client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
            client_assertion: assertion,
          },
        };
      };
    }
    default:
      return config(
        `unsupported client authentication method ${String((auth as { method: unknown }).method)}`,
      );
  }
}
