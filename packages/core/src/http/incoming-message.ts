import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { FORWARDED_CLIENT_CERT_HEADER } from '../guard/forwarded-peer.js';
import type { RequestFacts } from '../guard/request-facts.js';

type HeaderBag = Record<string, string | string[]>;

/**
 * Lower-case names, one string per header sent once and an array for a repeated one: what
 * `headersDistinct` holds, in one pass. No prototype, so a header named `__proto__` is a header.
 */
function headersOfRaw(raw: readonly string[]): HeaderBag {
  const headers: HeaderBag = Object.create(null) as HeaderBag;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    const value = raw[i + 1] as string;
    const seen = headers[name];
    if (seen === undefined) headers[name] = value;
    else if (typeof seen === 'string') headers[name] = [seen, value];
    else seen.push(value);
  }
  return headers;
}

function headersOf(source: Record<string, string | string[] | undefined>): HeaderBag {
  const headers: HeaderBag = Object.create(null) as HeaderBag;
  for (const [name, value] of Object.entries(source)) {
    if (value === undefined) continue;
    headers[name] = Array.isArray(value) && value.length === 1 ? (value[0] as string) : value;
  }
  return headers;
}

function headersOfRequest(req: IncomingMessage): HeaderBag {
  const { rawHeaders } = req as Partial<IncomingMessage>;
  // An HTTP/1 IncomingMessage: every header line as received, without building headersDistinct.
  if ('headersDistinct' in req && Array.isArray(rawHeaders)) return headersOfRaw(rawHeaders);
  // A request object made by hand or by another server: what it offers, repeated headers first.
  // HTTP/2 compat requests have no headersDistinct, and their rawHeaders split cookies into
  // crumbs: their joined `headers` are what the application sees.
  const distinct = (req as Partial<IncomingMessage>).headersDistinct;
  return headersOf(distinct ?? (req as Partial<IncomingMessage>).headers ?? {});
}

/**
 * Builds {@link RequestFacts} from a Node `IncomingMessage` (what Express's `req` and Fastify's
 * `request.raw` are). Over HTTP/1 the headers come from `rawHeaders`, so repeated headers
 * (including a second `Authorization`, which `req.headers` silently drops) are all seen, as
 * `headersDistinct` would show them, without building that object. Over HTTP/2 the host is
 * `:authority` and the socket is the session's TLS socket.
 *
 * @param url The raw request-target; defaults to `req.url`.
 */
export function factsFromIncomingMessage(
  req: IncomingMessage,
  url: string = req.url ?? '/',
): RequestFacts {
  const headers = headersOfRequest(req);
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
  const setNames = Object.keys(changes.set);
  const names = setNames.length === 0 ? changes.remove : [...changes.remove, ...setNames];
  if (names.length === 0) return;
  const distinct = (req as Partial<IncomingMessage>).headersDistinct;
  for (const name of names) {
    delete req.headers[name];
    if (distinct) delete distinct[name];
  }
  const raw = req.rawHeaders;
  for (let i = raw.length - 2; i >= 0; i -= 2) {
    const rawName = raw[i] as string;
    if (names.some((n) => n.length === rawName.length && n === rawName.toLowerCase()))
      raw.splice(i, 2);
  }
  for (const name of setNames) {
    const value = changes.set[name] as string;
    req.headers[name] = value;
    if (distinct) distinct[name] = [value];
    raw.push(name, value);
  }
}
