/** Building the agent's gRPC messages (X.509 contexts, bundles, JWT structs) and its signing keys. */
import { createPrivateKey, randomUUID, X509Certificate } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import { exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import {
  type WorkloadAgentSvid,
  type WorkloadAgentBundle,
  type WorkloadAgentX509Context,
  type WorkloadAgentMethod,
} from './types.js';

export interface Stream {
  readonly method: WorkloadAgentMethod;
  readonly call: grpc.ServerWritableStream<unknown, unknown>;
}

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

export function bundleDer(bundle: WorkloadAgentBundle | undefined): Buffer {
  if (bundle === undefined) return Buffer.alloc(0);
  if (typeof bundle === 'string') {
    const blocks = bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
    return Buffer.concat((blocks ?? []).map((pem) => new X509Certificate(pem).raw));
  }
  return Buffer.isBuffer(bundle) ? bundle : Buffer.concat(bundle);
}

export function trustDomainOf(spiffeId: string): string {
  const match = /^spiffe:\/\/([^/]+)/.exec(spiffeId);
  if (!match?.[1]) throw new TypeError(`not a SPIFFE ID: ${spiffeId}`);
  return match[1];
}

export function svidId(svid: WorkloadAgentSvid): string {
  if (svid.spiffeId === undefined) throw new TypeError('a WorkloadAgentSvid needs a spiffeId');
  return svid.spiffeId;
}

/** The `X509SVIDResponse` of a context. */
export function x509Response(context: WorkloadAgentX509Context): object {
  const own = new Set(context.svids.map((s) => trustDomainOf(svidId(s))));
  const federated: Record<string, Buffer> = {};
  for (const [td, bundle] of Object.entries(context.bundles)) {
    if (!own.has(td)) federated[`spiffe://${td}`] = bundleDer(bundle);
  }
  return {
    svids: context.svids.map((s) => ({
      spiffe_id: svidId(s),
      x509_svid: Buffer.concat(s.chainDer as Buffer[]),
      x509_svid_key: createPrivateKey(s.keyPem).export({ type: 'pkcs8', format: 'der' }),
      bundle: bundleDer(context.bundles[trustDomainOf(svidId(s))]),
      hint: s.hint ?? '',
    })),
    crl: [],
    federated_bundles: federated,
  };
}

export function x509BundlesResponse(context: WorkloadAgentX509Context): object {
  const bundles: Record<string, Buffer> = {};
  for (const [td, bundle] of Object.entries(context.bundles))
    bundles[`spiffe://${td}`] = bundleDer(bundle);
  return { crl: [], bundles };
}

export type ProtoValue = Record<string, unknown>;

export function toProtoValue(value: unknown): ProtoValue {
  if (value === null || value === undefined) return { nullValue: 0 };
  if (typeof value === 'number') return { numberValue: value };
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (Array.isArray(value)) return { listValue: { values: value.map(toProtoValue) } };
  return { structValue: toProtoStruct(value as Record<string, unknown>) };
}

export function toProtoStruct(object: Record<string, unknown>): {
  fields: Record<string, ProtoValue>;
} {
  const fields: Record<string, ProtoValue> = {};
  for (const [key, value] of Object.entries(object)) fields[key] = toProtoValue(value);
  return { fields };
}

export async function newSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = randomUUID();
  return {
    kid,
    privateKey,
    // As SPIRE serves Workload API JWT bundles (go-spiffe jwtbundle.Marshal): kid, no `use`.
    // (A SPIFFE bundle document would say `use: 'jwt-svid'`, which jose's key sets skip.)
    publicJwk: { ...(await exportJWK(publicKey)), kid },
  };
}
