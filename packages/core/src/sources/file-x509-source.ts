import { ConfigError, MeshlessError } from '../errors.js';
import { parseTrustDomain } from '../identity/spiffe-id.js';
import type {
  BundleSource,
  SourceEvent,
  X509Bundle,
  X509Source,
  X509Svid,
} from '../tls/sources.js';
import { parseBundleFile } from './bundle-file.js';
import { sameBundle } from './bundle-equality.js';
import {
  describeReadError,
  readFileContents,
  sameContent,
  type FileContent,
} from './file-snapshot.js';
import { watchFiles } from './file-watcher.js';
import { createListeners } from './listeners.js';
import { BundleError, SvidError } from './source-errors.js';
import { parseX509Svid } from './x509-svid.js';

/** Options of {@link createFileX509Source}. */
export interface FileX509SourceOptions {
  /** PEM certificate chain, leaf first (Kubernetes `tls.crt`, SPIRE helper `svid.pem`). */
  certFile: string;
  /** PKCS#8 PEM private key of the leaf (`tls.key`, `svid_key.pem`). */
  keyFile: string;
  /** Trust bundle: PEM CA certificates (`ca.crt`, `bundle.pem`) or a SPIFFE bundle document. */
  bundleFile?: string;
  /** Trust domain of `bundleFile`. Default: the trust domain of the current SVID. */
  trustDomain?: string;
  /** How often the files are re-read, in addition to `fs.watch`. Default 1000 ms. */
  pollIntervalMs?: number;
  /** Quiet time before a change is read, and between the two reads that must agree. Default 100 ms. */
  debounceMs?: number;
  /** Use `fs.watch` on the files' directories. Default true; polling alone when false (e.g. NFS). */
  watch?: boolean;
}

/** An {@link X509Source} and {@link BundleSource} over files, hot-reloaded until {@link close}. */
export interface FileX509Source extends X509Source, BundleSource {
  /** `updated` after a good rotation; `error` when changed files were refused (old material kept). */
  subscribe(listener: (event: SourceEvent) => void): () => void;
  /** Stops watching and polling and drops the subscribers. The last material stays readable. */
  close(): void;
}

function positive(name: string, value: number | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min)
    throw new ConfigError(`${name} must be a number >= ${min}`);
  return value;
}

function nonEmpty(name: string, value: unknown): string {
  if (typeof value !== 'string' || value === '')
    throw new ConfigError(`${name} must be a file path`);
  return value;
}

/** Prefixes a rule error with the file(s) it came from; other errors pass through. */
function withFile(error: unknown, where: string): unknown {
  if (error instanceof SvidError)
    return new SvidError(error.code, `${where}: ${error.message}`, { cause: error });
  if (error instanceof BundleError)
    return new BundleError(error.code, `${where}: ${error.message}`, { cause: error });
  return error;
}

/**
 * Loads this workload's X.509-SVID (and optionally its trust bundle) from files and keeps them
 * current: it watches the files' directories and also polls, so the atomic `..data` symlink swap
 * Kubernetes uses for mounted Secrets and ConfigMaps is seen even where `fs.watch` misses it.
 * Certificate and key are always reloaded as a pair from one settled read, so a new certificate
 * is never combined with an old key. A changed file that fails the rules of {@link parseX509Svid}
 * (or a bad bundle) keeps the previous material and reports `{ type: 'error' }`; a good change
 * reports `{ type: 'updated' }`. The bundle is served for the SVID's trust domain (or
 * `trustDomain`). Watchers and timers do not keep the process alive.
 *
 * @throws {SvidError} / {BundleError} when the initial files are unreadable or invalid;
 *   {ConfigError} for invalid options.
 * @example
 * ```ts
 * const source = await createFileX509Source({
 *   certFile: '/etc/tls/tls.crt', keyFile: '/etc/tls/tls.key', bundleFile: '/etc/tls/ca.crt',
 * });
 * const server = https.createServer(tlsOptions(source.getX509Svid()), app);
 * source.subscribe((e) => e.type === 'updated' && server.setSecureContext(tlsOptions(source.getX509Svid())));
 * const guard = createGuard({ trustBundles: source, ... });
 * ```
 */
export async function createFileX509Source(
  options: FileX509SourceOptions,
): Promise<FileX509Source> {
  const certFile = nonEmpty('certFile', options.certFile);
  const keyFile = nonEmpty('keyFile', options.keyFile);
  const bundleFile =
    options.bundleFile === undefined ? undefined : nonEmpty('bundleFile', options.bundleFile);
  const pollIntervalMs = positive('pollIntervalMs', options.pollIntervalMs, 1000, 10);
  const debounceMs = positive('debounceMs', options.debounceMs, 100, 0);
  let fixedTd: string | undefined;
  try {
    fixedTd =
      options.trustDomain === undefined ? undefined : parseTrustDomain(options.trustDomain).name;
  } catch (cause) {
    if (!(cause instanceof MeshlessError)) throw cause;
    throw new ConfigError('trustDomain: invalid trust domain', { cause });
  }

  const loadSvid = (cert: FileContent, key: FileContent): X509Svid => {
    if (!cert.ok)
      throw new SvidError(
        'ERR_SVID_FILE',
        `cannot read ${certFile}: ${describeReadError(cert.error)}`,
        { cause: cert.error },
      );
    if (!key.ok)
      throw new SvidError(
        'ERR_SVID_FILE',
        `cannot read ${keyFile}: ${describeReadError(key.error)}`,
        { cause: key.error },
      );
    try {
      return parseX509Svid({
        certChainPem: cert.data.toString('utf8'),
        privateKeyPem: key.data.toString('utf8'),
      });
    } catch (error) {
      throw withFile(error, `${certFile} / ${keyFile}`);
    }
  };
  const loadBundle = (td: string, content: FileContent | undefined): X509Bundle => {
    if (content === undefined || !content.ok)
      throw new BundleError(
        'ERR_BUNDLE_FILE',
        `cannot read ${bundleFile}: ${content ? describeReadError(content.error) : 'not read'}`,
        content?.ok === false ? { cause: content.error } : undefined,
      );
    try {
      return parseBundleFile(td, content.data);
    } catch (error) {
      throw withFile(error, String(bundleFile));
    }
  };

  const files = bundleFile === undefined ? [certFile, keyFile] : [certFile, keyFile, bundleFile];
  let seen = await readFileContents(files);
  let svid = loadSvid(seen[0] as FileContent, seen[1] as FileContent);
  const bundleTd = (): string => fixedTd ?? svid.id.trustDomain.name;
  let bundle = bundleFile === undefined ? undefined : loadBundle(bundleTd(), seen[2]);

  const listeners = createListeners();
  const onChange = (snapshot: readonly FileContent[]): void => {
    const [cert, key, bundleContent] = snapshot as [FileContent, FileContent, FileContent?];
    const errors: unknown[] = [];
    let changed = false;
    if (!sameContent(cert, seen[0]) || !sameContent(key, seen[1])) {
      try {
        const next = loadSvid(cert, key);
        if (next.certChainPem !== svid.certChainPem || next.privateKeyPem !== svid.privateKeyPem) {
          svid = next;
          changed = true;
        }
      } catch (error) {
        errors.push(error);
      }
    }
    if (bundle !== undefined) {
      if (!sameContent(bundleContent, seen[2])) {
        try {
          const next = loadBundle(bundleTd(), bundleContent);
          if (!sameBundle(bundle, next)) changed = true;
          bundle = next;
        } catch (error) {
          errors.push(error);
        }
      }
      if (bundle.trustDomain !== bundleTd()) bundle = { ...bundle, trustDomain: bundleTd() };
    }
    seen = [...snapshot];
    if (changed) listeners.emit({ type: 'updated' });
    for (const error of errors)
      listeners.emit({
        type: 'error',
        error: error instanceof Error ? error : new Error(String(error)),
      });
  };

  const watcher = watchFiles({
    files,
    initial: seen,
    pollIntervalMs,
    debounceMs,
    watch: options.watch ?? true,
    onChange,
  });

  return {
    getX509Svid: () => svid,
    getBundleFor: (td) => (bundle !== undefined && bundle.trustDomain === td ? bundle : undefined),
    trustDomains: () => (bundle === undefined ? [] : [bundle.trustDomain]),
    subscribe: (listener) => listeners.subscribe(listener),
    close() {
      watcher.close();
      listeners.clear();
    },
  };
}
