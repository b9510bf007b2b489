import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { jwtVerify, createLocalJWKSet, SignJWT, type JSONWebKeySet } from 'jose';
import { WORKLOAD_API_PROTO } from './proto-text.js';
import {
  SECURITY_HEADER,
  type WorkloadAgentMethod,
  type WorkloadAgentStatus,
  type WorkloadAgentRequest,
  type StartWorkloadAgentOptions,
  type WorkloadAgent,
} from './types.js';
import {
  type Stream,
  type SigningKey,
  trustDomainOf,
  svidId,
  x509Response,
  x509BundlesResponse,
  toProtoStruct,
  newSigningKey,
} from './messages.js';

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
