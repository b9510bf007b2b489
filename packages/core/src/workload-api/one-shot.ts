import * as grpc from '@grpc/grpc-js';
import { WorkloadApiError } from './errors.js';
import type { WorkloadApiMethod } from './proto.js';
import { abortedError, closedError, methodName, rpcError, securityMetadata } from './rpc.js';

/** Per-call options of the one-shot methods. */
export interface WorkloadApiCallOptions {
  /** Aborts the call (rejects with `ERR_WORKLOAD_API_ABORTED`). */
  signal?: AbortSignal;
  /** Deadline of this call. Default: the client's `callTimeoutMs`. */
  timeoutMs?: number;
}

/** What one-shot calls need from their client. */
export interface CallHost {
  readonly channel: grpc.Client;
  readonly callTimeoutMs: number;
  isClosed(): boolean;
  /** Pending calls' close handlers, so the client can reject them on close. */
  readonly pending: Set<() => void>;
}

type Start<T> = (
  callOptions: grpc.CallOptions,
  resolve: (value: T) => void,
  reject: (error: Error) => void,
) => { cancel(): void };

/** Runs one call with a deadline, the caller's signal and the client's close. */
function withCall<T>(
  host: CallHost,
  options: WorkloadApiCallOptions | undefined,
  start: Start<T>,
): Promise<T> {
  if (host.isClosed()) return Promise.reject(closedError());
  const signal = options?.signal;
  if (signal?.aborted) return Promise.reject(abortedError(signal));
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let call: { cancel(): void } | undefined;
    const cleanup = (): void => {
      settled = true;
      host.pending.delete(onClose);
      signal?.removeEventListener('abort', onAbort);
    };
    const fail = (error: Error): void => {
      if (settled) return;
      cleanup();
      call?.cancel();
      reject(error);
    };
    const onClose = (): void => fail(closedError());
    const onAbort = (): void => fail(abortedError(signal));
    host.pending.add(onClose);
    signal?.addEventListener('abort', onAbort, { once: true });
    const deadline = Date.now() + (options?.timeoutMs ?? host.callTimeoutMs);
    try {
      call = start(
        { deadline },
        (value) => {
          if (settled) return;
          cleanup();
          resolve(value);
        },
        fail,
      );
    } catch (cause) {
      fail(closedError(cause));
    }
  });
}

/** A unary call; `parse` errors reject. */
export function unaryCall<Request, Response, Value>(
  host: CallHost,
  method: WorkloadApiMethod<Request, Response>,
  request: Request,
  parse: (response: Response) => Value,
  options: WorkloadApiCallOptions | undefined,
): Promise<Value> {
  return withCall(host, options, (callOptions, resolve, reject) =>
    host.channel.makeUnaryRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      request,
      securityMetadata(),
      callOptions,
      (error, response) => {
        if (error) return reject(rpcError(method, error, error));
        try {
          resolve(parse(response as Response));
        } catch (parseError) {
          reject(parseError as Error);
        }
      },
    ),
  );
}

/** The first message of a server stream, then the stream is cancelled. No retry. */
export function firstMessage<Message, Value>(
  host: CallHost,
  method: WorkloadApiMethod<Record<string, never>, Message>,
  parse: (message: Message) => Value,
  options: WorkloadApiCallOptions | undefined,
): Promise<Value> {
  return withCall(host, options, (callOptions, resolve, reject) => {
    const call = host.channel.makeServerStreamRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      {},
      securityMetadata(),
      callOptions,
    );
    let received = false;
    call.on('data', (message: Message) => {
      if (received) return;
      received = true;
      call.cancel();
      try {
        resolve(parse(message));
      } catch (error) {
        reject(error as Error);
      }
    });
    call.on('error', () => {});
    call.on('status', (status: grpc.StatusObject) => {
      if (received) return;
      reject(
        status.code === grpc.status.OK
          ? new WorkloadApiError('ERR_WORKLOAD_API_RPC', `${methodName(method)} sent nothing`, {
              grpcCode: status.code,
            })
          : rpcError(method, status),
      );
    });
    return call;
  });
}
