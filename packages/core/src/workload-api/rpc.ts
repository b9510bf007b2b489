import * as grpc from '@grpc/grpc-js';
import { WorkloadApiError } from './errors.js';
import type { WorkloadApiMethod } from './proto.js';

/** The security header every Workload API call carries (Workload Endpoint spec §3). */
export const SECURITY_HEADER = 'workload.spiffe.io';

/**
 * Codes after which a watch stops instead of retrying: InvalidArgument (the spec: a client bug,
 * not recoverable), Cancelled (as go-spiffe and py-spiffe do) and Unimplemented (the spec's
 * error table: "report an error, do not retry").
 */
export const TERMINAL_CODES: ReadonlySet<number> = new Set([
  grpc.status.INVALID_ARGUMENT,
  grpc.status.CANCELLED,
  grpc.status.UNIMPLEMENTED,
]);

/** Any method, for error messages. */
export type AnyMethod = WorkloadApiMethod<never, unknown>;

/** `FetchX509SVID` from `/SpiffeWorkloadAPI/FetchX509SVID`. */
export function methodName(method: AnyMethod): string {
  return method.path.slice(method.path.lastIndexOf('/') + 1);
}

function statusName(code: number): string {
  return (grpc.status as unknown as Record<number, string | undefined>)[code] ?? `code ${code}`;
}

/** Fresh metadata holding the security header (grpc-js may mutate what it is given). */
export function securityMetadata(): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set(SECURITY_HEADER, 'true');
  return metadata;
}

/** `ERR_WORKLOAD_API_RPC` for a non-OK status (the agent's `details` go into the message). */
export function rpcError(
  method: AnyMethod,
  status: { code: number; details: string },
  cause?: unknown,
  willRetry?: boolean,
): WorkloadApiError {
  const details = status.details === '' ? '' : `: ${status.details}`;
  return new WorkloadApiError(
    'ERR_WORKLOAD_API_RPC',
    `${methodName(method)} failed with ${statusName(status.code)}${details}`,
    {
      ...(cause === undefined ? {} : { cause }),
      grpcCode: status.code,
      ...(willRetry === undefined ? {} : { willRetry }),
    },
  );
}

/** `ERR_WORKLOAD_API_CLOSED`. */
export function closedError(cause?: unknown): WorkloadApiError {
  return new WorkloadApiError(
    'ERR_WORKLOAD_API_CLOSED',
    'the Workload API client is closed',
    cause === undefined ? undefined : { cause },
  );
}

/** `ERR_WORKLOAD_API_ABORTED` with the signal's reason. */
export function abortedError(signal: AbortSignal | undefined): WorkloadApiError {
  return new WorkloadApiError('ERR_WORKLOAD_API_ABORTED', 'the call was aborted', {
    cause: signal?.reason,
  });
}

/** Rethrows outside the current call stack (a listener that throws). */
export function rethrowLater(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}
