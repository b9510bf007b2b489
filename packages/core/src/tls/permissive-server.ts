import { createServer as createHttpServer, type RequestListener } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import type { Server as TlsServer, TlsOptions } from 'node:tls';

/** A PERMISSIVE listener: one port, TLS and plaintext, one request handler. */
export interface PermissiveServer {
  /** The listening socket server: `listen`, `close`, `address` as usual. */
  readonly server: NetServer;
  /** The TLS side (for `setSecureContext`, {@link keepServerInSync}, 'secureConnection'). */
  readonly tls: TlsServer;
}

/** First byte of a TLS record carrying a handshake. */
const TLS_HANDSHAKE = 0x16;
const FIRST_BYTE_TIMEOUT_MS = 10_000;

/**
 * The raw socket as a JS stream that starts with bytes already read. Node's TLS layer reads a
 * `net.Socket` through its native handle, which would skip bytes put back with `unshift`; a JS
 * stream is read through its events instead. Addresses are those of the raw socket.
 */
class ReplayedSocket extends Duplex {
  readonly #socket: Socket;
  constructor(socket: Socket, head: Buffer) {
    super();
    this.#socket = socket;
    this.push(head);
    socket.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (error) => this.destroy(error));
    socket.on('close', () => this.destroy());
  }
  override _read(): void {
    this.#socket.resume();
  }
  override _write(
    chunk: Buffer,
    encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    this.#socket.write(chunk, encoding, callback);
  }
  override _final(callback: (error?: Error | null) => void): void {
    this.#socket.end(callback);
  }
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#socket.destroy();
    callback(error);
  }
  get remoteAddress(): string | undefined {
    return this.#socket.remoteAddress;
  }
  get remotePort(): number | undefined {
    return this.#socket.remotePort;
  }
  get remoteFamily(): string | undefined {
    return this.#socket.remoteFamily;
  }
  get localAddress(): string | undefined {
    return this.#socket.localAddress;
  }
  get localPort(): number | undefined {
    return this.#socket.localPort;
  }
}

/**
 * Istio's PERMISSIVE mode on one port: connections that start with a TLS handshake go to an
 * HTTPS server (mTLS when the client presents a certificate), the others to a plain HTTP server;
 * both run the same handler, so the guard sees each request with or without a peer identity and
 * decides (policies can still require a principal). Use it during a migration to STRICT: TLS
 * connections here go through a JS stream and cost more than on a plain TLS listener.
 *
 * @example
 * ```ts
 * const { server, tls } = createPermissiveServer(mtlsServerOptions({ svid, bundles }, 'PERMISSIVE'), app);
 * server.listen(8443);
 * ```
 */
export function createPermissiveServer(
  tlsOptions: TlsOptions,
  handler: RequestListener,
): PermissiveServer {
  const tls = createHttpsServer(tlsOptions, handler);
  const plain = createHttpServer(handler);
  // A TLS socket over a JS stream cannot ask the kernel for its addresses: give it the raw
  // socket's. (Node keeps the JS stream at `_handle._parentWrap.stream`; if that ever moves, the
  // addresses stay unset rather than wrong.)
  tls.prependListener('secureConnection', (socket: Socket) => {
    const stream = (socket as unknown as { _handle?: { _parentWrap?: { stream?: unknown } } })
      ._handle?._parentWrap?.stream;
    if (!(stream instanceof ReplayedSocket)) return;
    for (const key of [
      'remoteAddress',
      'remotePort',
      'remoteFamily',
      'localAddress',
      'localPort',
    ] as const)
      Object.defineProperty(socket, key, { value: stream[key], configurable: true });
  });
  const server = createNetServer((socket: Socket) => {
    // A connection that sends nothing is not held forever.
    socket.setTimeout(FIRST_BYTE_TIMEOUT_MS, () => socket.destroy());
    socket.once('data', (head: Buffer) => {
      socket.setTimeout(0);
      socket.pause();
      if (head[0] === TLS_HANDSHAKE) {
        tls.emit('connection', new ReplayedSocket(socket, head));
      } else {
        socket.unshift(head);
        plain.emit('connection', socket);
        socket.resume();
      }
    });
    socket.on('error', () => socket.destroy());
  });
  server.on('close', () => {
    tls.close();
    plain.close();
  });
  return { server, tls };
}
