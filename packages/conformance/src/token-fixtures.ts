/**
 * Fixtures of the token suite (`describeTokenSuite`): constants, hand-made JWS composition
 * (`node:crypto`, raw base64url segments, so that headers no JWT library would produce can be
 * sent), a locally controlled issuer with an attacker JWKS, and a counted, switchable fetch for
 * the guard.
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Decision } from '@meshless/core';
import type { OidcProviderHarness } from '@meshless/testing';
import type { AdapterServer } from './svid-rule-suite.js';

export const NAMESPACE = 'payments';
export const TRUST_DOMAIN = 'example.org';
export const AUDIENCE = 'https://payment-processor.payments';
export const SECRET_CLIENT = {
  clientId: 'checkout-secret',
  clientSecret: 'checkout-secret-0123456789abcdef0123456789',
};
export const BOUND_CLIENT_ID = 'checkout-mtls';

export type Json = Record<string, unknown>;

export const b64url = (value: string | Buffer): string => Buffer.from(value).toString('base64url');
export const seg = (value: unknown): string => b64url(JSON.stringify(value));
export const nowSec = (): number => Math.floor(Date.now() / 1000);
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Compact JWS over `header`/`payload`, ES256 with `key` (P-256), composed by hand. */
export function signEs256(header: Json, payload: Json, key: KeyObject): string {
  const input = `${seg(header)}.${seg(payload)}`;
  const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64url(signature)}`;
}

export function headerOf(token: string): Json {
  return JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as Json;
}

/** A plain-HTTP loopback server: a JWKS for a locally controlled issuer, and an attacker JWKS. */
export interface LocalIssuer {
  readonly issuer: string;
  readonly jwksUri: string;
  readonly attackerJwksUri: string;
  readonly privateKey: KeyObject;
  readonly kid: string;
  /** Requests to the attacker JWKS (must stay 0: embedded `jku` is never followed). */
  attackerHits(): number;
  close(): Promise<void>;
}

export async function startLocalIssuer(attackerPublic: Json): Promise<LocalIssuer> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = 'local-1';
  const jwks = JSON.stringify({
    keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' }],
  });
  let attackerHits = 0;
  const server = http.createServer((req, res) => {
    if (req.url === '/attacker-jwks') {
      attackerHits++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [attackerPublic] }));
      return;
    }
    if (req.url === '/jwks') {
      res.setHeader('content-type', 'application/json');
      res.end(jwks);
      return;
    }
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer: `${origin}/local-issuer`,
    jwksUri: `${origin}/jwks`,
    attackerJwksUri: `${origin}/attacker-jwks`,
    privateKey,
    kid,
    attackerHits: () => attackerHits,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A fetch for the guard: the OP's CA-trusting fetch for the OP, global fetch otherwise; counted and switchable. */
export interface SwitchFetch {
  readonly fetch: typeof fetch;
  /** Requests (attempted) whose URL starts with `prefix`. */
  count(prefix: string): number;
  /** While false, every request to the OP fails like a connection refusal. */
  opUp: boolean;
}

export function switchFetch(op: OidcProviderHarness): SwitchFetch {
  const urls: string[] = [];
  const state: SwitchFetch = {
    opUp: true,
    count: (prefix) => urls.filter((u) => u.startsWith(prefix)).length,
    fetch: async (input: string | URL | Request, init?: RequestInit) => {
      const url = input instanceof Request ? input.url : String(input);
      urls.push(url);
      if (url.startsWith(op.issuer)) {
        if (!state.opUp) throw new TypeError('fetch failed (provider switched off)');
        return op.fetch(input, init);
      }
      return fetch(input, init);
    },
  };
  return state;
}

export interface Running extends AdapterServer {
  decisions: Decision[];
  fetch: SwitchFetch;
}

export interface Caller {
  certPem: string;
  keyPem: string;
}
