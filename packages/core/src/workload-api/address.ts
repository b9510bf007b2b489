import { isIP } from 'node:net';
import { WorkloadApiError } from './errors.js';

/** The environment variable conforming clients fall back to (Workload Endpoint spec §4). */
export const SPIFFE_ENDPOINT_SOCKET = 'SPIFFE_ENDPOINT_SOCKET';

/** A validated Workload API endpoint address. */
export type WorkloadApiAddress =
  | {
      readonly kind: 'unix';
      /** Absolute path of the Unix domain socket (percent-decoded). */
      readonly path: string;
      /** gRPC target for `@grpc/grpc-js`, `unix:<path>`. */
      readonly target: string;
    }
  | {
      readonly kind: 'tcp';
      /** The IP address, without brackets for IPv6. */
      readonly host: string;
      readonly port: number;
      /** gRPC target for `@grpc/grpc-js` (`ipv4:` / `ipv6:` scheme: no name resolution). */
      readonly target: string;
    };

function invalid(message: string): never {
  throw new WorkloadApiError('ERR_WORKLOAD_API_ADDRESS_INVALID', `workload endpoint ${message}`);
}

function decodePath(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return invalid('unix socket URI has an invalid percent-encoding in its path');
  }
}

function parseUnix(url: URL, input: string): WorkloadApiAddress {
  // WHATWG parsing of a non-special scheme: `unix:///a` and `unix:/a` have an empty host;
  // `unix:rel` has an opaque path (no leading slash).
  if (url.host !== '') invalid('unix socket URI must not have an authority (use unix:///path)');
  if (!url.pathname.startsWith('/'))
    invalid('unix socket URI must hold an absolute path (unix:///path)');
  if (url.pathname === '/' || url.pathname.endsWith('/'))
    invalid('unix socket URI path must name a socket, not a directory');
  if (input.includes('?')) invalid('unix socket URI must not include query values');
  if (input.includes('#')) invalid('unix socket URI must not include a fragment');
  // `unix:////a` has the path `//a`: collapse the leading slashes, or the gRPC target would read
  // as `unix://a` (an authority).
  const path = decodePath(url.pathname).replace(/^\/+/, '/');
  if (path.includes('\0')) invalid('unix socket URI path must not contain NUL');
  return { kind: 'unix', path, target: `unix:${path}` };
}

function parseTcp(url: URL, input: string): WorkloadApiAddress {
  if (url.username !== '' || url.password !== '' || /^tcp:\/\/[^/?#]*@/i.test(input))
    invalid('tcp socket URI must not include user info');
  if (url.hostname === '') invalid('tcp socket URI must include a host');
  if (url.pathname !== '') invalid('tcp socket URI must not include a path');
  if (input.includes('?')) invalid('tcp socket URI must not include query values');
  if (input.includes('#')) invalid('tcp socket URI must not include a fragment');
  const bracketed = url.hostname.startsWith('[') && url.hostname.endsWith(']');
  const host = bracketed ? url.hostname.slice(1, -1) : url.hostname;
  const family = isIP(host);
  if (family === 0 || (family === 6) !== bracketed)
    invalid('tcp socket URI host component must be an IP:port');
  if (url.port === '') invalid('tcp socket URI host component must include a port');
  const port = Number(url.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    invalid('tcp socket URI port must be between 1 and 65535');
  return {
    kind: 'tcp',
    host,
    port,
    target: family === 6 ? `ipv6:[${host}]:${port}` : `ipv4:${host}:${port}`,
  };
}

/**
 * Parses and validates a Workload API endpoint address (SPIFFE Workload Endpoint spec §4):
 * `unix:///absolute/path` (also `unix:/absolute/path`), or `tcp://IP:port` with an IPv4 or
 * bracketed IPv6 literal. No authority for `unix`; no user info, path, query or fragment for
 * `tcp`; no query or fragment for `unix`. Host names are refused: the endpoint must be local.
 *
 * @throws {WorkloadApiError} `ERR_WORKLOAD_API_ADDRESS_INVALID`.
 * @example
 * ```ts
 * parseWorkloadApiAddress('unix:///run/spire/agent.sock').target; // 'unix:/run/spire/agent.sock'
 * parseWorkloadApiAddress('tcp://127.0.0.1:8081').target;        // 'ipv4:127.0.0.1:8081'
 * ```
 */
export function parseWorkloadApiAddress(input: string): WorkloadApiAddress {
  if (typeof input !== 'string' || input.trim() === '') invalid('socket URI is empty');
  if (input !== input.trim()) invalid('socket URI must not have surrounding whitespace');
  let url: URL;
  try {
    url = new URL(input);
  } catch (cause) {
    throw new WorkloadApiError(
      'ERR_WORKLOAD_API_ADDRESS_INVALID',
      'workload endpoint socket is not a valid URI',
      { cause },
    );
  }
  if (url.protocol === 'unix:') return parseUnix(url, input);
  if (url.protocol === 'tcp:') return parseTcp(url, input);
  return invalid('socket URI must have a "tcp" or "unix" scheme');
}

/**
 * The Workload API address to use: the explicit `address` when given, else
 * `SPIFFE_ENDPOINT_SOCKET` (the spec's mandatory fallback).
 *
 * @throws {WorkloadApiError} `ERR_WORKLOAD_API_ADDRESS_MISSING` when neither is set,
 *   `ERR_WORKLOAD_API_ADDRESS_INVALID` when the address is malformed.
 */
export function resolveWorkloadApiAddress(
  address?: string,
  env: NodeJS.ProcessEnv = process.env,
): WorkloadApiAddress {
  const value = address ?? env[SPIFFE_ENDPOINT_SOCKET];
  if (value === undefined || value === '')
    throw new WorkloadApiError(
      'ERR_WORKLOAD_API_ADDRESS_MISSING',
      `no Workload API address given and ${SPIFFE_ENDPOINT_SOCKET} is not set`,
    );
  return parseWorkloadApiAddress(value);
}
