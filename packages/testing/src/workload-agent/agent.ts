import { createPrivateKey, randomUUID, X509Certificate } from 'node:crypto';
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import {
  exportJWK,
  generateKeyPair,
  jwtVerify,
  createLocalJWKSet,
  SignJWT,
  type CryptoKey,
  type JSONWebKeySet,
  type JWK,
} from 'jose';
import { WORKLOAD_API_PROTO } from './proto-text.js';

/** The security header the agent requires on every call. */
const SECURITY_HEADER = 'workload.spiffe.io';

/** One X.509-SVID the agent hands out; an `Svid` from `createTestCa().issueSvid()` fits. */
export interface WorkloadAgentSvid {
  /** The SPIFFE ID sent in `spiffe_id` (the trust domain picks the bundle). */
  spiffeId?: string | undefined;
  /** Leaf first, then intermediates. */
  chainDer: readonly Buffer[];
  /** PKCS#8 PEM. */
  keyPem: string;
  /** Sent as `hint`. */
  hint?: string;
}

/** Trust anchors of one trust domain: DER certificate(s) or PEM text. */
export type WorkloadAgentBundle = Buffer | readonly Buffer[] | string;

/** What `FetchX509SVID` streams. */
export interface WorkloadAgentX509Context {
  /** The first one is the workload's default identity. */
  svids: readonly WorkloadAgentSvid[];
  /**
   * Roots by trust domain name. The SVIDs' own trust domains go into each SVID's `bundle`, the
   * others into `federated_bundles`. A trust domain left out is gone for the client.
   */
  bundles: Readonly<Record<string, WorkloadAgentBundle>>;
}

/** The five RPCs of the Workload API. */
export type WorkloadAgentMethod =
  'FetchX509SVID' | 'FetchX509Bundles' | 'FetchJWTSVID' | 'FetchJWTBundles' | 'ValidateJWTSVID';

/** A gRPC status for `failWith`. */
export interface WorkloadAgentStatus {
  /** A `grpc.status` code, e.g. 7 (PERMISSION_DENIED), 14 (UNAVAILABLE). */
  code: number;
  details?: string;
}

/** One call the agent received. */
export interface WorkloadAgentRequest {
  readonly method: WorkloadAgentMethod;
  /** Whether the call carried `workload.spiffe.io: true`. */
  readonly securityHeader: boolean;
  /** `Date.now()` at arrival. */
  readonly at: number;
}

/** Options of {@link startWorkloadAgent}. */
export interface StartWorkloadAgentOptions {
  /** Unix socket path. Default: `agent.sock` in a fresh temp directory. */
  socketPath?: string;
  /** The first X.509 context. Without one, `FetchX509SVID` answers PERMISSION_DENIED until `rotate()`. */
  x509Context?: WorkloadAgentX509Context;
  /** Trust domain of the JWT signing key. Default: the trust domain of the first SVID. */
  jwtTrustDomain?: string;
  /** Lifetime of issued JWT-SVIDs. Default 300 s. */
  jwtTtlSeconds?: number;
}

/** A fake SPIFFE Workload API agent on a Unix socket. */
export interface WorkloadAgent {
  /** The socket path. */
  readonly socketPath: string;
  /** `unix://<socketPath>`, for `SPIFFE_ENDPOINT_SOCKET` or the client's `address`. */
  readonly address: string;
  /** Every call received, in order (including refused ones). */
  readonly requests: readonly WorkloadAgentRequest[];
  /** Number of calls received for a method. */
  requestCount(method: WorkloadAgentMethod): number;
  /** Number of open streams (all methods, or one). */
  openStreams(method?: WorkloadAgentMethod): number;
  /**
   * Replaces the X.509 context and pushes it to every open X.509 stream (`bundles` defaults to
   * the current ones). With no SVIDs, open `FetchX509SVID` streams get nothing and new ones
   * PERMISSION_DENIED, as SPIRE does for a workload without identity.
   */
  rotate(
    svids: readonly WorkloadAgentSvid[],
    bundles?: Readonly<Record<string, WorkloadAgentBundle>>,
  ): void;
  /** Makes later calls to `method` fail with `status` (also ends its open streams); `undefined` heals. */
  failWith(method: WorkloadAgentMethod, status: WorkloadAgentStatus | undefined): void;
  /** The public JWT bundle (JWKS) the agent serves for its JWT trust domain. */
  jwks(): JSONWebKeySet;
  /** Adds a new JWT signing key (the old one stays in the bundle) and pushes the bundle. */
  rotateJwtKey(): Promise<void>;
  /**
   * Stops like a crashing agent: connections are dropped (clients see UNAVAILABLE), the socket
   * file is removed. `restart()` serves again on the same path.
   */
  stop(): Promise<void>;
  /** Serves again on the same socket path, with the current state. */
  restart(): Promise<void>;
  /** Stops and removes the temp directory. */
  close(): Promise<void>;
}

interface Stream {
  readonly method: WorkloadAgentMethod;
  readonly call: grpc.ServerWritableStream<unknown, unknown>;
}

interface SigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

function bundleDer(bundle: WorkloadAgentBundle | undefined): Buffer {
  if (bundle === undefined) return Buffer.alloc(0);
  if (typeof bundle === 'string') {
    const blocks = bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
    return Buffer.concat((blocks ?? []).map((pem) => new X509Certificate(pem).raw));
  }
  return Buffer.isBuffer(bundle) ? bundle : Buffer.concat(bundle);
}

function trustDomainOf(spiffeId: string): string {
  const match = /^spiffe:\/\/([^/]+)/.exec(spiffeId);
  if (!match?.[1]) throw new TypeError(`not a SPIFFE ID: ${spiffeId}`);
  return match[1];
}

function svidId(svid: WorkloadAgentSvid): string {
  if (svid.spiffeId === undefined) throw new TypeError('a WorkloadAgentSvid needs a spiffeId');
  return svid.spiffeId;
}

/** The `X509SVIDResponse` of a context. */
function x509Response(context: WorkloadAgentX509Context): object {
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

function x509BundlesResponse(context: WorkloadAgentX509Context): object {
  const bundles: Record<string, Buffer> = {};
  for (const [td, bundle] of Object.entries(context.bundles))
    bundles[`spiffe://${td}`] = bundleDer(bundle);
  return { crl: [], bundles };
}

type ProtoValue = Record<string, unknown>;

function toProtoValue(value: unknown): ProtoValue {
  if (value === null || value === undefined) return { nullValue: 0 };
  if (typeof value === 'number') return { numberValue: value };
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (Array.isArray(value)) return { listValue: { values: value.map(toProtoValue) } };
  return { structValue: toProtoStruct(value as Record<string, unknown>) };
}

function toProtoStruct(object: Record<string, unknown>): { fields: Record<string, ProtoValue> } {
  const fields: Record<string, ProtoValue> = {};
  for (const [key, value] of Object.entries(object)) fields[key] = toProtoValue(value);
  return { fields };
}

async function newSigningKey(): Promise<SigningKey> {
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

/**
 * Starts a fake SPIFFE Workload API agent (SPIRE-like) on a Unix socket: the X.509 and JWT
 * profiles over real gRPC, the `workload.spiffe.io: true` header enforced (INVALID_ARGUMENT
 * without it), context pushes to open streams, crash-like `stop()` and `restart()` on the same
 * path, JWT-SVIDs signed with an ES256 key it owns (bundle served as JWKS).
 *
 * @example
 * const ca = await createTestCa({ trustDomain: 'td.test' });
 * const svid = await ca.issueSvid({ spiffeId: 'spiffe://td.test/api' });
 * const agent = await startWorkloadAgent({
 *   x509Context: { svids: [svid], bundles: { 'td.test': ca.rootDer } },
 * });
 * // client: createWorkloadX509Source({ address: agent.address })
 * agent.rotate([await ca.issueSvid({ spiffeId: 'spiffe://td.test/api' })]);
 * await agent.close();
 */
export async function startWorkloadAgent(
  options: StartWorkloadAgentOptions = {},
): Promise<WorkloadAgent> {
  const dir = await mkdtemp(join(tmpdir(), 'meshless-agent-'));
  const socketPath = options.socketPath ?? join(dir, 'agent.sock');
  const protoPath = join(dir, 'workload.proto');
  await writeFile(protoPath, WORKLOAD_API_PROTO);
  const definition = loadSync(protoPath, { keepCase: true, defaults: true, oneofs: true });
  const service = definition['SpiffeWorkloadAPI'] as grpc.ServiceDefinition;
  const ttl = options.jwtTtlSeconds ?? 300;

  let context = options.x509Context;
  const requests: WorkloadAgentRequest[] = [];
  const streams = new Set<Stream>();
  const failures = new Map<WorkloadAgentMethod, WorkloadAgentStatus>();
  const signingKeys: SigningKey[] = [await newSigningKey()];
  let running: { server: grpc.Server; net: NetServer; sockets: Set<Socket> } | undefined;

  const jwtTrustDomain = (): string => {
    if (options.jwtTrustDomain !== undefined) return options.jwtTrustDomain;
    const first = context?.svids[0];
    return first === undefined ? 'example.org' : trustDomainOf(svidId(first));
  };
  const jwks = (): JSONWebKeySet => ({ keys: signingKeys.map((k) => k.publicJwk) });
  const jwtBundlesResponse = (): object => ({
    bundles: { [`spiffe://${jwtTrustDomain()}`]: Buffer.from(JSON.stringify(jwks())) },
  });

  /** Records the call; answers INVALID_ARGUMENT without the header, or a configured failure. */
  const admit = (
    method: WorkloadAgentMethod,
    metadata: grpc.Metadata,
  ): grpc.ServerErrorResponse | undefined => {
    const securityHeader = metadata.get(SECURITY_HEADER)[0] === 'true';
    requests.push({ method, securityHeader, at: Date.now() });
    if (!securityHeader)
      return {
        name: 'Error',
        message: 'security header missing from request',
        code: grpc.status.INVALID_ARGUMENT,
        details: 'security header missing from request',
      };
    const failure = failures.get(method);
    if (failure)
      return {
        name: 'Error',
        message: failure.details ?? 'failure injected by the fake agent',
        code: failure.code,
        details: failure.details ?? 'failure injected by the fake agent',
      };
    return undefined;
  };

  const openStream = (
    method: WorkloadAgentMethod,
    call: grpc.ServerWritableStream<unknown, unknown>,
    initial: () => object | grpc.ServerErrorResponse,
  ): void => {
    const refused = admit(method, call.metadata);
    if (refused) {
      call.emit('error', refused);
      return;
    }
    const first = initial();
    if ('code' in first) {
      call.emit('error', first);
      return;
    }
    const stream: Stream = { method, call };
    streams.add(stream);
    const forget = (): void => {
      streams.delete(stream);
    };
    call.on('cancelled', forget);
    call.on('close', forget);
    call.on('error', forget);
    call.write(first);
  };

  const noIdentity: grpc.ServerErrorResponse = {
    name: 'Error',
    message: 'no identity issued',
    code: grpc.status.PERMISSION_DENIED,
    details: 'no identity issued',
  };

  const sign = (spiffeId: string, audience: string[]): Promise<string> => {
    const key = signingKeys[signingKeys.length - 1] as SigningKey;
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'JWT' })
      .setSubject(spiffeId)
      .setAudience(audience)
      .setIssuedAt(now)
      .setExpirationTime(now + ttl)
      .sign(key.privateKey);
  };

  const handlers: grpc.UntypedServiceImplementation = {
    FetchX509SVID: (call: grpc.ServerWritableStream<unknown, unknown>) =>
      openStream('FetchX509SVID', call, () =>
        context && context.svids.length > 0 ? x509Response(context) : noIdentity,
      ),
    FetchX509Bundles: (call: grpc.ServerWritableStream<unknown, unknown>) =>
      openStream('FetchX509Bundles', call, () =>
        context ? x509BundlesResponse(context) : noIdentity,
      ),
    FetchJWTBundles: (call: grpc.ServerWritableStream<unknown, unknown>) =>
      openStream('FetchJWTBundles', call, jwtBundlesResponse),
    FetchJWTSVID: (
      call: grpc.ServerUnaryCall<{ audience: string[]; spiffe_id: string }, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) => {
      const refused = admit('FetchJWTSVID', call.metadata);
      if (refused) return callback(refused);
      const { audience, spiffe_id: requested } = call.request;
      if (audience.length === 0)
        return callback({
          code: grpc.status.INVALID_ARGUMENT,
          details: 'audience must be specified',
        });
      const ids = (context?.svids ?? []).map(svidId);
      const wanted = requested === '' ? ids : ids.filter((id) => id === requested);
      if (wanted.length === 0) return callback(noIdentity);
      Promise.all(
        wanted.map(async (id) => ({ spiffe_id: id, svid: await sign(id, audience), hint: '' })),
      )
        .then((svids) => callback(null, { svids }))
        .catch((error: Error) => callback({ code: grpc.status.INTERNAL, details: error.message }));
    },
    ValidateJWTSVID: (
      call: grpc.ServerUnaryCall<{ audience: string; svid: string }, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) => {
      const refused = admit('ValidateJWTSVID', call.metadata);
      if (refused) return callback(refused);
      const { audience, svid } = call.request;
      if (audience === '' || svid === '')
        return callback({
          code: grpc.status.INVALID_ARGUMENT,
          details: 'audience and svid must be specified',
        });
      jwtVerify(svid, createLocalJWKSet(jwks()), { audience, typ: 'JWT' })
        .then(({ payload }) =>
          callback(null, { spiffe_id: payload.sub ?? '', claims: toProtoStruct(payload) }),
        )
        .catch((error: Error) =>
          callback({
            code: grpc.status.INVALID_ARGUMENT,
            details: `invalid JWT-SVID: ${error.message}`,
          }),
        );
    },
  };

  const push = (methods: readonly WorkloadAgentMethod[], message: () => object): void => {
    for (const stream of streams) {
      if (methods.includes(stream.method)) stream.call.write(message());
    }
  };

  const start = async (): Promise<void> => {
    const server = new grpc.Server();
    server.addService(service, handlers);
    const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
    const sockets = new Set<Socket>();
    const net = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      injector.injectConnection(socket);
    });
    // A socket file left by a crashed process would make listen() fail with EADDRINUSE.
    await unlink(socketPath).catch(() => undefined);
    await new Promise<void>((resolve, reject) => {
      net.once('error', reject);
      net.listen(socketPath, () => {
        net.off('error', reject);
        resolve();
      });
    });
    running = { server, net, sockets };
  };

  const stop = async (): Promise<void> => {
    const current = running;
    if (!current) return;
    running = undefined;
    streams.clear();
    // Drop the connections without RST_STREAM(CANCEL): clients see UNAVAILABLE, as when a real
    // agent process dies. (grpc-js forceShutdown() alone would show them CANCELLED.)
    for (const socket of current.sockets) socket.destroy();
    const closed = new Promise<void>((resolve) => current.net.close(() => resolve()));
    current.server.forceShutdown();
    await closed;
  };

  await start();

  return {
    socketPath,
    address: `unix://${socketPath}`,
    requests,
    requestCount: (method) => requests.filter((r) => r.method === method).length,
    openStreams: (method) =>
      [...streams].filter((s) => method === undefined || s.method === method).length,
    rotate(svids, bundles) {
      context = { svids, bundles: bundles ?? context?.bundles ?? {} };
      const next = context;
      if (next.svids.length > 0) push(['FetchX509SVID'], () => x509Response(next));
      push(['FetchX509Bundles'], () => x509BundlesResponse(next));
    },
    failWith(method, status) {
      if (status === undefined) {
        failures.delete(method);
        return;
      }
      failures.set(method, status);
      for (const stream of [...streams]) {
        if (stream.method !== method) continue;
        streams.delete(stream);
        stream.call.emit('error', {
          code: status.code,
          details: status.details ?? 'failure injected by the fake agent',
        });
      }
    },
    jwks,
    async rotateJwtKey() {
      signingKeys.push(await newSigningKey());
      push(['FetchJWTBundles'], jwtBundlesResponse);
    },
    stop,
    restart: async () => {
      await stop();
      await start();
    },
    async close() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
