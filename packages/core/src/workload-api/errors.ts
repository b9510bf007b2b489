import { MeshlessError } from '../errors.js';

/** Every stable error code of the Workload API client. */
export type WorkloadApiErrorCode =
  /** No address given and `SPIFFE_ENDPOINT_SOCKET` is unset or empty. */
  | 'ERR_WORKLOAD_API_ADDRESS_MISSING'
  /** The address is not `unix:///abs/path` or `tcp://IP:port` (see `parseWorkloadApiAddress`). */
  | 'ERR_WORKLOAD_API_ADDRESS_INVALID'
  /** A call ended with a gRPC status other than OK; `grpcCode` holds it. */
  | 'ERR_WORKLOAD_API_RPC'
  /** The agent answered with something that is not a valid X.509/JWT context. */
  | 'ERR_WORKLOAD_API_INVALID_RESPONSE'
  /** The client or source was closed (or its signal aborted) before the operation finished. */
  | 'ERR_WORKLOAD_API_CLOSED'
  /** The call's own `signal` aborted it. */
  | 'ERR_WORKLOAD_API_ABORTED'
  /** No first update within the configured time. */
  | 'ERR_WORKLOAD_API_TIMEOUT'
  /** The picker chose no SVID, so the source has no default SVID. */
  | 'ERR_WORKLOAD_API_NO_SVID'
  /** A watch callback threw; the watch goes on. */
  | 'ERR_WORKLOAD_API_CALLBACK';

/**
 * Thrown by (or reported from) the SPIFFE Workload API client and sources. Match on `code`;
 * for `ERR_WORKLOAD_API_RPC`, `grpcCode` is the gRPC status code (`3` InvalidArgument,
 * `7` PermissionDenied, `14` Unavailable, ...).
 */
export class WorkloadApiError extends MeshlessError {
  declare readonly code: WorkloadApiErrorCode;
  /** The gRPC status code, for `ERR_WORKLOAD_API_RPC`. */
  readonly grpcCode: number | undefined;
  /**
   * Whether a watch will try again after this error (false for a terminal error: the watch has
   * stopped). Undefined outside watches.
   */
  readonly willRetry: boolean | undefined;

  constructor(
    code: WorkloadApiErrorCode,
    message: string,
    options?: { cause?: unknown; grpcCode?: number; willRetry?: boolean },
  ) {
    super(code, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.grpcCode = options?.grpcCode;
    this.willRetry = options?.willRetry;
  }
}
