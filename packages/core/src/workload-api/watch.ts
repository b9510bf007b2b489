import * as grpc from '@grpc/grpc-js';
import type { Backoff } from './backoff.js';
import { WorkloadApiError } from './errors.js';
import type { WorkloadApiMethod } from './proto.js';
import {
  closedError,
  methodName,
  rethrowLater,
  rpcError,
  securityMetadata,
  TERMINAL_CODES,
} from './rpc.js';

/** A running watch. */
export interface WorkloadApiWatch {
  /** Stops the watch: no callback is called afterwards. */
  cancel(): void;
  /**
   * Settles when the watch ended: `undefined` after `cancel()` or the client's `close()`, the
   * terminal error otherwise (InvalidArgument, Cancelled, Unimplemented). Never rejects.
   */
  readonly done: Promise<WorkloadApiError | undefined>;
}

/** Called with each error of a watch; `error.willRetry` tells whether the watch goes on. */
export type WatchErrorListener = (error: WorkloadApiError) => void;

/** What a watch needs from its client. */
export interface WatchHost {
  readonly channel: grpc.Client;
  readonly newBackoff: () => Backoff;
  /** Open watches, so the client can cancel them on close. */
  readonly watches: Set<WorkloadApiWatch>;
}

function asWatchError(error: unknown): WorkloadApiError {
  if (error instanceof WorkloadApiError)
    return new WorkloadApiError(error.code, error.message, {
      cause: error.cause,
      willRetry: true,
    });
  return new WorkloadApiError('ERR_WORKLOAD_API_INVALID_RESPONSE', 'unexpected response', {
    cause: error,
    willRetry: true,
  });
}

/**
 * Streams a server-streaming RPC with go-spiffe's retry rules: every message resets the backoff;
 * a failed stream is reported and retried after `backoff.next()`, except after a terminal code;
 * a stream the agent ends cleanly is retried too. A message that does not parse, or an
 * `onUpdate` that throws, is reported and the stream goes on.
 */
export function startWatch<Message, Value>(
  host: WatchHost,
  method: WorkloadApiMethod<Record<string, never>, Message>,
  parse: (message: Message) => Value,
  onUpdate: (value: Value) => void,
  onError: WatchErrorListener | undefined,
): WorkloadApiWatch {
  const backoff = host.newBackoff();
  let call: grpc.ClientReadableStream<Message> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let settle!: (error: WorkloadApiError | undefined) => void;
  const done = new Promise<WorkloadApiError | undefined>((resolve) => (settle = resolve));

  const report = (error: WorkloadApiError): void => {
    try {
      onError?.(error);
    } catch (thrown) {
      rethrowLater(thrown);
    }
  };
  const finish = (error: WorkloadApiError | undefined): void => {
    if (stopped) return;
    stopped = true;
    clearTimeout(timer);
    host.watches.delete(handle);
    const current = call;
    call = undefined;
    current?.cancel();
    settle(error);
  };
  const onMessage = (message: Message): void => {
    if (stopped) return;
    backoff.reset();
    let value: Value;
    try {
      value = parse(message);
    } catch (error) {
      report(asWatchError(error));
      return;
    }
    try {
      onUpdate(value);
    } catch (cause) {
      report(
        new WorkloadApiError('ERR_WORKLOAD_API_CALLBACK', 'the watch update callback threw', {
          cause,
          willRetry: true,
        }),
      );
    }
  };
  const onStatus = (current: unknown, status: grpc.StatusObject): void => {
    if (stopped || call !== current) return;
    call = undefined;
    const terminal = TERMINAL_CODES.has(status.code);
    const error =
      status.code === grpc.status.OK
        ? new WorkloadApiError(
            'ERR_WORKLOAD_API_RPC',
            `${methodName(method)} stream ended by the agent`,
            { grpcCode: status.code, willRetry: true },
          )
        : rpcError(method, status, undefined, !terminal);
    report(error);
    if (terminal) finish(error);
    else if (!stopped) timer = setTimeout(attempt, backoff.next());
  };
  const attempt = (): void => {
    timer = undefined;
    if (stopped) return;
    let current: grpc.ClientReadableStream<Message>;
    try {
      current = host.channel.makeServerStreamRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        {},
        securityMetadata(),
      );
    } catch (cause) {
      finish(closedError(cause));
      return;
    }
    call = current;
    current.on('data', onMessage);
    // The 'status' event carries the same information; without a listener 'error' would throw.
    current.on('error', () => {});
    current.on('status', (status: grpc.StatusObject) => onStatus(current, status));
  };

  const handle: WorkloadApiWatch = { cancel: () => finish(undefined), done };
  host.watches.add(handle);
  attempt();
  return handle;
}
