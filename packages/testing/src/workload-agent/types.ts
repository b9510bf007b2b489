/** The public shapes of the fake Workload API agent. */
import type { JSONWebKeySet } from 'jose';
/** The security header the agent requires on every call. */
export const SECURITY_HEADER = 'workload.spiffe.io';

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
