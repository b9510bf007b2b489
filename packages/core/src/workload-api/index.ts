/**
 * `@meshless/core/workload-api`: a SPIFFE Workload API client for Node, over `@grpc/grpc-js`
 * and `@grpc/proto-loader` (optional peer dependencies: install them to use this entry point).
 *
 * - {@link createWorkloadX509Source}: an `X509Source` + `BundleSource` that rotates with the agent.
 * - {@link createWorkloadApiClient}: the raw client (X.509 and JWT profiles, watches with
 *   go-spiffe's retry rules).
 * - {@link parseWorkloadApiAddress}: `SPIFFE_ENDPOINT_SOCKET` validation.
 *
 * @packageDocumentation
 */
export {
  parseWorkloadApiAddress,
  resolveWorkloadApiAddress,
  SPIFFE_ENDPOINT_SOCKET,
} from './address.js';
export type { WorkloadApiAddress } from './address.js';
export { createLinearBackoff } from './backoff.js';
export type { Backoff, LinearBackoffOptions } from './backoff.js';
export { createWorkloadApiClient, DEFAULT_CALL_TIMEOUT_MS } from './client.js';
export type {
  FetchJwtSvidParams,
  ValidatedJwtSvid,
  WorkloadApiClient,
  WorkloadApiClientOptions,
} from './client.js';
export type { WorkloadApiCallOptions } from './one-shot.js';
export { SECURITY_HEADER } from './rpc.js';
export type { WatchErrorListener, WorkloadApiWatch } from './watch.js';
export { WorkloadApiError } from './errors.js';
export type { WorkloadApiErrorCode } from './errors.js';
export type { JwtBundle, JwtBundleSet, JwtSvid } from './jwt.js';
export type { X509Context } from './x509-context.js';
export { createWorkloadX509Source, DEFAULT_SOURCE_TIMEOUT_MS } from './x509-source.js';
export type {
  WorkloadX509Source,
  WorkloadX509SourceOptions,
  X509SvidPicker,
} from './x509-source.js';
