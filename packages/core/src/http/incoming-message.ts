import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { FORWARDED_CLIENT_CERT_HEADER } from '../guard/forwarded-peer.js';
import type { RequestFacts } from '../guard/request-facts.js';

/**
 * Builds {@link RequestFacts} from a Node `IncomingMessage` (what Express's `req` and Fastify's
 * `request.raw` are). Headers come from `headersDistinct`, so repeated headers (including a second
 * `Authorization`, which `req.headers` silently drops) are all seen. Over HTTP/2 the host is
 * `:authority` and the socket is the session's TLS socket.
 *
 * @param url The raw request-target; defaults to `req.url`.
 */
export function factsFromIncomingMessage(
  req: IncomingMessage,
  url: string = req.url ?? '/',
): RequestFacts {
  const headers: Record<string, string | string[]> = {};
  // headersDistinct keeps repeated headers; HTTP/2 compat requests may not have it.
  const distinct = (req as Partial<IncomingMessage>).headersDistinct;
  if (distinct) {
    for (const [name, values] of Object.entries(distinct)) {
      if (values === undefined) continue;
      headers[name] = values.length === 1 ? (values[0] as string) : values;
    }
  } else {
    for (const [name, value] of Object.entries(req.headers))
      if (value !== undefined) headers[name] = value;
  }
  // HTTP/2: `req.socket` is a new proxy per stream; the session's socket is stable, so the
  // per-socket identity cache works.
  const socket =
    (req as { stream?: { session?: { socket?: Socket } } }).stream?.session?.socket ?? req.socket;
  const authority = headers[':authority'];
  const host = headers['host'];
  const facts: RequestFacts = {
    method: req.method ?? '',
    path: url,
    // HTTP/2 routes on :authority (as Envoy does); the guard refuses a Host that disagrees with it.
    host: typeof authority === 'string' ? authority : typeof host === 'string' ? host : '',
    headers,
    sourceIp: socket.remoteAddress ?? '',
    destinationPort: socket.localPort ?? 0,
  };
  if (socket.localAddress) facts.destinationIp = socket.localAddress;
  if ((socket as Partial<TLSSocket>).encrypted === true) {
    const tls = socket as TLSSocket;
    facts.socket = tls;
    const sni = (tls as { servername?: string | false }).servername;
    if (typeof sni === 'string') facts.sni = sni;
  }
  return facts;
}

/**
 * Removes the request headers meshless consumed and the application must not trust on its own
 * (`x-forwarded-client-cert`: the verified identity is in `req.auth`). Adapters call it after the
 * guard has read the request.
 */
export function stripConsumedHeaders(req: IncomingMessage): void {
  if (req.headers[FORWARDED_CLIENT_CERT_HEADER] === undefined) return;
  delete req.headers[FORWARDED_CLIENT_CERT_HEADER];
  const distinct = (req as Partial<IncomingMessage>).headersDistinct;
  if (distinct) delete distinct[FORWARDED_CLIENT_CERT_HEADER];
  // Raw header list (name, value pairs) as well.
  const raw = req.rawHeaders;
  for (let i = raw.length - 2; i >= 0; i -= 2)
    if ((raw[i] as string).toLowerCase() === FORWARDED_CLIENT_CERT_HEADER) raw.splice(i, 2);
}

/**
 * Applies the request header changes of an allowed decision (token removal, RequestAuthentication
 * outputs) to the request the application will see: `headers`, `headersDistinct` and `rawHeaders`.
 */
export function applyRequestHeaders(
  req: IncomingMessage,
  changes: { remove: string[]; set: Record<string, string> } | undefined,
): void {
  if (!changes) return;
  const names = new Set([...changes.remove, ...Object.keys(changes.set)]);
  if (names.size === 0) return;
  const distinct = (req as Partial<IncomingMessage>).headersDistinct;
  for (const name of names) {
    delete req.headers[name];
    if (distinct) delete distinct[name];
  }
  const raw = req.rawHeaders;
  for (let i = raw.length - 2; i >= 0; i -= 2)
    if (names.has((raw[i] as string).toLowerCase())) raw.splice(i, 2);
  for (const [name, value] of Object.entries(changes.set)) {
    req.headers[name] = value;
    if (distinct) distinct[name] = [value];
    raw.push(name, value);
  }
}
