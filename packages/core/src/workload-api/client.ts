import * as grpc from '@grpc/grpc-js';
import { parseSpiffeId, type SpiffeId } from '../identity/spiffe-id.js';
import type { X509Bundle } from '../tls/sources.js';
import { resolveWorkloadApiAddress, type WorkloadApiAddress } from './address.js';
import {
  createLinearBackoff,
  DEFAULT_INITIAL_DELAY_MS,
  DEFAULT_MAX_DELAY_MS,
  type Backoff,
  type LinearBackoffOptions,
} from './backoff.js';
import { WorkloadApiError } from './errors.js';
import {
  parseJwtBundles,
  parseJwtSvid,
  structToJson,
  type JwtBundleSet,
  type JwtSvid,
} from './jwt.js';
import {
  workloadApiMethods,
  type JwtSvidMessage,
  type JwtSvidRequestMessage,
  type WorkloadApiMethod,
} from './proto.js';
import { firstMessage, unaryCall, type CallHost, type WorkloadApiCallOptions } from './one-shot.js';
import { closedError } from './rpc.js';
import {
  startWatch,
  type WatchErrorListener,
  type WatchHost,
  type WorkloadApiWatch,
} from './watch.js';
import { parseX509BundleMap, parseX509Context, type X509Context } from './x509-context.js';

/** Default deadline of unary calls and one-shot fetches. */
export const DEFAULT_CALL_TIMEOUT_MS = 10_000;

/** Options of {@link createWorkloadApiClient}. */
export interface WorkloadApiClientOptions {
  /**
   * `unix:///path/to/agent.sock` or `tcp://IP:port`. Default: the `SPIFFE_ENDPOINT_SOCKET`
   * environment variable.
   */
  address?: string;
  /** Aborting it closes the client. */
  signal?: AbortSignal;
  /**
   * Retry delays of watches: linear-backoff options (default 1 s, 2 s, ... 30 s, reset after every
   * message) or a factory called once per watch. The gRPC channel's own reconnect backoff is
   * bounded by the same limits, so a restarted agent is found on the next retry.
   */
  backoff?: LinearBackoffOptions | (() => Backoff);
  /** Deadline of unary calls and one-shot fetches. Default 10 000 ms. */
  callTimeoutMs?: number;
  /** Extra `@grpc/grpc-js` channel options (they win over the client's defaults). */
  channelOptions?: grpc.ChannelOptions;
}

/** Parameters of {@link WorkloadApiClient.fetchJwtSvid}. */
export interface FetchJwtSvidParams {
  /** The audience the token is for. */
  audience: string;
  /** More audiences, sent after `audience`. */
  extraAudiences?: readonly string[];
  /** Which of the workload's identities to use. Default: the agent's first (default) one. */
  subject?: SpiffeId | string;
}

/** The result of {@link WorkloadApiClient.validateJwtSvid}. */
export interface ValidatedJwtSvid {
  readonly id: SpiffeId;
  /** The token's claims as the agent returned them. */
  readonly claims: Readonly<Record<string, unknown>>;
}

/** A SPIFFE Workload API client (go-spiffe's `workloadapi.Client`). */
export interface WorkloadApiClient {
  /** The validated endpoint address. */
  readonly address: WorkloadApiAddress;
  /** True after `close()` (or the signal aborted). */
  readonly closed: boolean;
  /**
   * Streams X.509 contexts (`FetchX509SVID`): `onUpdate` gets every message, each the full
   * state. A failed stream is reported to `onError` and retried with backoff, except after
   * InvalidArgument, Cancelled or Unimplemented. A message that does not parse is reported
   * and skipped; the stream goes on.
   *
   * @throws {WorkloadApiError} `ERR_WORKLOAD_API_CLOSED` when the client is closed.
   */
  watchX509Context(
    onUpdate: (context: X509Context) => void,
    onError?: WatchErrorListener,
  ): WorkloadApiWatch;
  /** The first X.509 context (one `FetchX509SVID` message), without retry. */
  fetchX509Context(options?: WorkloadApiCallOptions): Promise<X509Context>;
  /** Streams X.509 bundles (`FetchX509Bundles`), with the same retry rules. */
  watchX509Bundles(
    onUpdate: (bundles: ReadonlyMap<string, X509Bundle>) => void,
    onError?: WatchErrorListener,
  ): WorkloadApiWatch;
  /** The workload's JWT-SVID for an audience: the first one the agent returns. */
  fetchJwtSvid(params: FetchJwtSvidParams, options?: WorkloadApiCallOptions): Promise<JwtSvid>;
  /** Every JWT-SVID the workload is entitled to for an audience. */
  fetchJwtSvids(params: FetchJwtSvidParams, options?: WorkloadApiCallOptions): Promise<JwtSvid[]>;
  /** The current JWT bundles (one `FetchJWTBundles` message), without retry. */
  fetchJwtBundles(options?: WorkloadApiCallOptions): Promise<JwtBundleSet>;
  /** Streams JWT bundles (`FetchJWTBundles`), with the same retry rules. */
  watchJwtBundles(
    onUpdate: (bundles: JwtBundleSet) => void,
    onError?: WatchErrorListener,
  ): WorkloadApiWatch;
  /** Asks the agent to validate a JWT-SVID for an audience (`ValidateJWTSVID`). */
  validateJwtSvid(
    token: string,
    audience: string,
    options?: WorkloadApiCallOptions,
  ): Promise<ValidatedJwtSvid>;
  /** Cancels every watch and call, and closes the gRPC channel. Idempotent. */
  close(): void;
}

/**
 * Creates a SPIFFE Workload API client over `@grpc/grpc-js` (an optional peer dependency of
 * `@meshless/core`, needed by this entry point only). Every call carries the
 * `workload.spiffe.io: true` header. Nothing connects until the first call.
 *
 * @throws {WorkloadApiError} `ERR_WORKLOAD_API_ADDRESS_MISSING` / `ERR_WORKLOAD_API_ADDRESS_INVALID`.
 * @example
 * ```ts
 * const client = createWorkloadApiClient({ address: 'unix:///run/spire/agent.sock' });
 * const watch = client.watchX509Context(
 *   (ctx) => console.log('SVID', ctx.svids[0]?.id.toString()),
 *   (err) => console.warn(err.code, err.message),
 * );
 * const jwt = await client.fetchJwtSvid({ audience: 'payments' });
 * client.close();
 * ```
 */
export function createWorkloadApiClient(options: WorkloadApiClientOptions = {}): WorkloadApiClient {
  const address = resolveWorkloadApiAddress(options.address);
  const backoffOption = options.backoff;
  const newBackoff =
    typeof backoffOption === 'function' ? backoffOption : () => createLinearBackoff(backoffOption);
  const linear = typeof backoffOption === 'function' ? {} : (backoffOption ?? {});
  const callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  // grpc-js fails calls fast while its channel backs off (1 s × 1.6ⁿ up to 120 s by default);
  // bound that by our own delays so a restarted agent is reached on our next retry.
  const initialDelay = linear.initialDelayMs ?? DEFAULT_INITIAL_DELAY_MS;
  const channel = new grpc.Client(address.target, grpc.credentials.createInsecure(), {
    'grpc.initial_reconnect_backoff_ms': initialDelay,
    'grpc.max_reconnect_backoff_ms': Math.max(
      initialDelay,
      linear.maxDelayMs ?? DEFAULT_MAX_DELAY_MS,
    ),
    ...options.channelOptions,
  });
  const methods = workloadApiMethods();
  const watches = new Set<WorkloadApiWatch>();
  const pending = new Set<() => void>();
  let closed = false;

  const watchHost: WatchHost = { channel, newBackoff, watches };
  const callHost: CallHost = { channel, callTimeoutMs, isClosed: () => closed, pending };
  const watch = <Message, Value>(
    method: WorkloadApiMethod<Record<string, never>, Message>,
    parse: (message: Message) => Value,
    onUpdate: (value: Value) => void,
    onError: WatchErrorListener | undefined,
  ): WorkloadApiWatch => {
    if (closed) throw closedError();
    return startWatch(watchHost, method, parse, onUpdate, onError);
  };

  function fetchJwt<Value>(
    params: FetchJwtSvidParams,
    callOptions: WorkloadApiCallOptions | undefined,
    pick: (svids: JwtSvidMessage[]) => Value,
  ): Promise<Value> {
    let request: JwtSvidRequestMessage;
    try {
      if (typeof params.audience !== 'string' || params.audience === '')
        throw new TypeError('fetchJwtSvid: audience must be a non-empty string');
      const subject =
        params.subject === undefined
          ? ''
          : typeof params.subject === 'string'
            ? parseSpiffeId(params.subject).toString()
            : params.subject.toString();
      request = {
        audience: [params.audience, ...(params.extraAudiences ?? [])],
        spiffe_id: subject,
      };
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return unaryCall(callHost, methods.FetchJWTSVID, request, (r) => pick(r.svids), callOptions);
  }

  function close(): void {
    if (closed) return;
    closed = true;
    options.signal?.removeEventListener('abort', close);
    for (const w of [...watches]) w.cancel();
    for (const onClose of [...pending]) onClose();
    channel.close();
  }

  if (options.signal?.aborted) close();
  else options.signal?.addEventListener('abort', close, { once: true });

  return {
    address,
    get closed() {
      return closed;
    },
    watchX509Context: (onUpdate, onError) =>
      watch(methods.FetchX509SVID, parseX509Context, onUpdate, onError),
    fetchX509Context: (callOptions) =>
      firstMessage(callHost, methods.FetchX509SVID, parseX509Context, callOptions),
    watchX509Bundles: (onUpdate, onError) =>
      watch(methods.FetchX509Bundles, (m) => parseX509BundleMap(m.bundles), onUpdate, onError),
    fetchJwtSvids: (params, callOptions) =>
      fetchJwt(params, callOptions, (svids) => svids.map(parseJwtSvid)),
    fetchJwtSvid: (params, callOptions) =>
      fetchJwt(params, callOptions, (svids) => {
        const svid = svids[0];
        if (svid === undefined)
          throw new WorkloadApiError(
            'ERR_WORKLOAD_API_INVALID_RESPONSE',
            'JWTSVIDResponse holds no SVID',
          );
        return parseJwtSvid(svid);
      }),
    fetchJwtBundles: (callOptions) =>
      firstMessage(
        callHost,
        methods.FetchJWTBundles,
        (m) => parseJwtBundles(m.bundles),
        callOptions,
      ),
    watchJwtBundles: (onUpdate, onError) =>
      watch(methods.FetchJWTBundles, (m) => parseJwtBundles(m.bundles), onUpdate, onError),
    validateJwtSvid: (token, audience, callOptions) =>
      unaryCall(
        callHost,
        methods.ValidateJWTSVID,
        { audience, svid: token },
        (r) => {
          let id: SpiffeId;
          try {
            id = parseSpiffeId(r.spiffe_id);
          } catch (cause) {
            throw new WorkloadApiError(
              'ERR_WORKLOAD_API_INVALID_RESPONSE',
              'ValidateJWTSVIDResponse has an invalid spiffe_id',
              { cause },
            );
          }
          return { id, claims: Object.freeze(structToJson(r.claims)) };
        },
        callOptions,
      ),
    close,
  };
}
