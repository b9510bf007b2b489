/**
 * `pnpm bench`: the benchmark harness. Generates fixtures once (test CA, server and client SVIDs,
 * an ES256 key, a JWKS served on loopback, one token), then for each variant starts
 * `bench/dist/server.js <server>` as a separate process, checks one request answers 200 (and, for
 * the meshless mTLS servers, that another identity is refused), runs the load against it (warm-up,
 * then the measured run), stops it, and finally prints a table and writes docs/benchmarks.md.
 *
 * Load: keep-alive variants use autocannon. New-connection variants (`connection: 'new'`) use a
 * loop of node:https requests with `agent: false`, so every request opens a TCP connection and does
 * a full TLS handshake (resumption is checked to be absent) with the same client certificate.
 * autocannon's `reconnectRate` cannot do this: it resets the connection in place of reporting the
 * response that reached the rate, so with `reconnectRate: 1` no response would be counted at all.
 *
 * Environment: `BENCH_DURATION` (seconds per variant, default 5), `BENCH_WARMUP` (seconds, default
 * 1), `BENCH_CONNECTIONS` (default 10; for new-connection variants, requests in flight),
 * `BENCH_VARIANTS` (comma-separated subset; docs are then not written), `BENCH_SERVER_NODE_ARGS`
 * (extra node flags for the server processes, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, createServer, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHistogram, performance, type RecordableHistogram } from 'node:perf_hooks';
import { createSecureContext, type TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { createTestCa } from '@meshless/testing';
import { measureIdentityStage, type IdentityMicro } from './identity-micro.js';
import { measureTokenVerification, type JwtMicro } from './jwt-micro.js';
import { pairedRatios, type PairedRatios, type PairedRound } from './paired.js';
import { measurePolicyEvaluation, type PolicyMicro } from './policy-micro.js';
import { measureTelemetry, type TelemetryMicro } from './telemetry-micro.js';
import autocannon from 'autocannon';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import {
  FIXTURES_ENV,
  HELLO_BODY,
  READY_PREFIX,
  ROUTE,
  VARIANTS,
  bareMtlsOf,
  readFixtures,
  type Fixtures,
  type FixturesFile,
  type VariantInfo,
} from './common.js';

const STARTUP_TIMEOUT_MS = 10_000;
const PROBE_TIMEOUT_MS = 5_000;
/** Per request of the new-connection load (autocannon's default timeout is 10 s as well). */
const REQUEST_TIMEOUT_MS = 10_000;
const SERVER_SCRIPT = fileURLToPath(new URL('./server.js', import.meta.url));
const DOCS_FILE = fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url));

class BenchError extends Error {}

function numberFromEnv(name: string, fallback: number, integer = false): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value)))
    throw new BenchError(
      `${name} must be a positive ${integer ? 'integer' : 'number'}, got "${raw}"`,
    );
  return value;
}

const DURATION_SEC = numberFromEnv('BENCH_DURATION', 5);
const WARMUP_SEC = numberFromEnv('BENCH_WARMUP', 1);
const CONNECTIONS = numberFromEnv('BENCH_CONNECTIONS', 10, true);
/**
 * Distinct tokens for the uncached variants. More than meshless's verified-token cache holds
 * (10,000, LRU), so that even when a run goes round the pool, a token is evicted before it comes
 * back.
 */
const TOKEN_POOL = numberFromEnv('BENCH_TOKEN_POOL', 20_000, true);
/** Rotating rounds of the uncached meshless rows against their jose row (see `measureGroup`). */
const PAIR_ROUNDS = numberFromEnv('BENCH_PAIR_ROUNDS', 9, true);
/** Seconds per server per round: short rounds, many of them, make a steadier median. */
const PAIR_ROUND_SEC = numberFromEnv('BENCH_PAIR_ROUND', 2);

function selectedVariants(): readonly VariantInfo[] {
  const raw = process.env['BENCH_VARIANTS'];
  if (raw === undefined || raw.trim() === '') return VARIANTS;
  const names = raw.split(',').map((s) => s.trim());
  for (const name of names) {
    if (!VARIANTS.some((v) => v.name === name))
      throw new BenchError(
        `BENCH_VARIANTS: unknown variant "${name}" (known: ${VARIANTS.map((v) => v.name).join(', ')})`,
      );
  }
  return VARIANTS.filter((v) => names.includes(v.name));
}

// ── children: every server process is tracked and killed on any exit path ──────────────────────

const children = new Set<ChildProcess>();

function killAll(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
}

process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    console.error(`\nbench: ${signal}, stopping`);
    killAll();
    process.exit(130);
  });
}

// ── fixtures ────────────────────────────────────────────────────────────────────────────────────

interface Setup {
  fixtures: Fixtures;
  fixturesPath: string;
  /** Distinct valid tokens; the uncached variants send each request with the next one. */
  tokenPool: readonly string[];
  close: () => Promise<void>;
}

async function createFixtures(): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'meshless-bench-'));
  const trustDomain = 'example.org';
  const clientSpiffeId = `spiffe://${trustDomain}/ns/payments/sa/checkout`;
  const ca = await createTestCa({ trustDomain });
  const [serverSvid, clientSvid, otherSvid] = await Promise.all([
    ca.issueSvid({
      spiffeId: `spiffe://${trustDomain}/ns/payments/sa/bench-server`,
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
      notAfter: new Date(Date.now() + 6 * 3_600_000),
    }),
    ca.issueSvid({ spiffeId: clientSpiffeId, notAfter: new Date(Date.now() + 6 * 3_600_000) }),
    // Same CA, another service account: the meshless mTLS servers must refuse it (403).
    ca.issueSvid({
      spiffeId: `spiffe://${trustDomain}/ns/payments/sa/not-checkout`,
      notAfter: new Date(Date.now() + 6 * 3_600_000),
    }),
  ]);

  // ES256 signing key; the JWKS is served by this process on loopback (fetched once per server).
  const kid = 'bench-es256';
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwks = JSON.stringify({
    keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }],
  });
  const jwksServer = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/jwks.json') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    jwksServer.once('error', reject);
    jwksServer.listen(0, '127.0.0.1', () => resolve());
  });
  const jwksPort = (jwksServer.address() as AddressInfo).port;

  const issuer = 'https://issuer.bench.example';
  const audience = 'https://api.bench.example';
  const subject = 'checkout';
  const sign = (jti?: string): Promise<string> => {
    const jwt = new SignJWT({ scope: 'payments:write' })
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
      .setIssuer(issuer)
      .setAudience(audience)
      .setSubject(subject)
      .setIssuedAt()
      .setExpirationTime('6h');
    return (jti === undefined ? jwt : jwt.setJti(jti)).sign(privateKey);
  };
  const token = await sign();
  const tokenPool: string[] = [];
  for (let i = 0; i < TOKEN_POOL; i++) tokenPool.push(await sign(`bench-${i}`));
  if (new Set(tokenPool).size !== TOKEN_POOL) throw new BenchError('token pool: duplicate tokens');

  const write = (name: string, content: string): string => {
    const path = join(dir, name);
    writeFileSync(path, content, { mode: 0o600 });
    return path;
  };
  const file: FixturesFile = {
    trustDomain,
    namespace: 'payments',
    caPath: write('ca.pem', ca.rootPem),
    serverCertPath: write('server-chain.pem', serverSvid.chainPem),
    serverKeyPath: write('server-key.pem', serverSvid.keyPem),
    clientCertPath: write('client-chain.pem', clientSvid.chainPem),
    clientKeyPath: write('client-key.pem', clientSvid.keyPem),
    clientSpiffeId,
    otherClientCertPath: write('other-client-chain.pem', otherSvid.chainPem),
    otherClientKeyPath: write('other-client-key.pem', otherSvid.keyPem),
    jwtPublicKeyPath: write('jwt-public.pem', await exportSPKI(publicKey)),
    issuer,
    audience,
    subject,
    jwksUri: `http://127.0.0.1:${jwksPort}/jwks.json`,
    token,
    tokenPoolPath: write('token-pool.json', JSON.stringify(tokenPool)),
  };
  const fixturesPath = write('fixtures.json', JSON.stringify(file, null, 2));
  return {
    fixtures: readFixtures(fixturesPath),
    fixturesPath,
    tokenPool,
    close: async () => {
      jwksServer.closeAllConnections();
      await new Promise<void>((resolve) => jwksServer.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ── one server process ──────────────────────────────────────────────────────────────────────────

interface RunningServer {
  port: number;
  /** CPU time (user + system, ms) the server process has used so far, where /proc tells. */
  cpuMs: () => number | undefined;
  stop: () => Promise<void>;
}

const CLOCK_TICKS_PER_SEC = 100; // USER_HZ on Linux

function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined || process.platform !== 'linux') return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which is in parentheses and may hold spaces): utime is the
    // 12th, stime the 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? (ticks * 1000) / CLOCK_TICKS_PER_SEC : undefined;
  } catch {
    return undefined;
  }
}

function startServer(variant: VariantInfo, fixturesPath: string): Promise<RunningServer> {
  const nodeArgs = (process.env['BENCH_SERVER_NODE_ARGS'] ?? '').split(/\s+/).filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, SERVER_SCRIPT, variant.server], {
    env: { ...process.env, [FIXTURES_ENV]: fixturesPath, NODE_ENV: 'production' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(timer);
    }
    children.delete(child);
  };

  return new Promise<RunningServer>((resolve, reject) => {
    let buffered = '';
    let settled = false;
    const fail = (message: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void stop().finally(() => reject(new BenchError(`${variant.name}: ${message}`)));
    };
    const timer = setTimeout(
      () => fail(`server did not report its port within ${STARTUP_TIMEOUT_MS / 1000} s`),
      STARTUP_TIMEOUT_MS,
    );
    child.once('error', (error) => fail(`could not start the server: ${error.message}`));
    child.once('exit', (code, signal) =>
      fail(`server exited before listening (code ${code ?? 'none'}, signal ${signal ?? 'none'})`),
    );
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      if (settled) {
        process.stdout.write(chunk); // anything the server logs later is shown as is
        return;
      }
      buffered += chunk;
      const line = buffered.split('\n').find((l) => l.startsWith(READY_PREFIX));
      if (line === undefined) return;
      const port = Number(line.slice(READY_PREFIX.length));
      if (!Number.isInteger(port) || port <= 0) return fail(`bad ready line "${line}"`);
      settled = true;
      clearTimeout(timer);
      resolve({ port, cpuMs: () => processCpuMs(child.pid), stop });
    });
  });
}

// ── one measurement ─────────────────────────────────────────────────────────────────────────────

interface Measurement {
  variant: VariantInfo;
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  /**
   * CPU time (user + system) of the server process per response of the measured run, in µs; less
   * sensitive than req/s to other processes competing for the cores. Undefined without /proc.
   */
  serverCpuUs: number | undefined;
  /** CPU used during the measured run, in cores (1 = one core busy): the server process. */
  serverCores: number | undefined;
  /** The same for this process, i.e. the load generator. */
  clientCores: number;
  /** Uncached variants: tokens sent to this server (warm-up + measured run). */
  tokensSent?: number;
  /** Measured in alternating rounds against its reference (the jose row): the per-round ratios. */
  paired?: PairedRatios;
}

interface ClientTls {
  ca: string;
  cert: string;
  key: string;
}

function targetOf(variant: VariantInfo, port: number, fx: Fixtures) {
  const secure = variant.transport === 'https-mtls';
  return {
    url: `${secure ? 'https' : 'http'}://127.0.0.1:${port}${ROUTE}`,
    headers: variant.token ? { authorization: `Bearer ${fx.token}` } : {},
    tls: secure ? { ca: fx.caPem, cert: fx.clientCertPem, key: fx.clientKeyPem } : undefined,
  };
}

/** One request on its own connection; the client verifies the server's certificate. */
function getOnce(
  url: string,
  headers: Record<string, string>,
  tls: ClientTls | undefined,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const onResponse = (res: IncomingMessage): void => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', reject);
    };
    const options = { method: 'GET', headers, timeout: PROBE_TIMEOUT_MS };
    const req = tls
      ? httpsRequest(url, { ...options, ...tls, agent: false }, onResponse)
      : httpRequest(url, { ...options, agent: false }, onResponse);
    req.on('timeout', () => req.destroy(new Error('probe request timed out')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Before measuring: the variant must answer 200 with the expected body, and a meshless mTLS server
 * must refuse (403) a verified certificate of another identity from the same CA, so the numbers
 * include a policy that really checks the principal.
 */
async function probe(variant: VariantInfo, port: number, fx: Fixtures): Promise<void> {
  const target = targetOf(variant, port, fx);
  const { status, body } = await getOnce(target.url, target.headers, target.tls);
  if (status !== 200 || body !== JSON.stringify(HELLO_BODY))
    throw new BenchError(
      `${variant.name}: probe GET ${ROUTE} answered ${status} ${body.slice(0, 300)} ` +
        `(expected 200 ${JSON.stringify(HELLO_BODY)}): the variant is misconfigured, not measuring it`,
    );
  if (target.tls && variant.server.includes('meshless') && !variant.server.endsWith('-noid')) {
    const other = { ...target.tls, cert: fx.otherClientCertPem, key: fx.otherClientKeyPem };
    const refused = await getOnce(target.url, target.headers, other);
    if (refused.status !== 403)
      throw new BenchError(
        `${variant.name}: probe with another identity's certificate answered ${refused.status} ` +
          `${refused.body.slice(0, 300)} (expected 403): the policy does not check the principal`,
      );
  }
}

/** What one load run produced; any problem aborts the benchmark. */
interface LoadRun {
  responses: number;
  /** Uncached variants: tokens taken from the pool (requests built, a few more than responses). */
  tokensSent?: number;
  durationSec: number;
  problems: string[];
}

/**
 * Next token of the pool, per variant (i.e. per server process): it goes on across warm-up and
 * measured runs, so a server gets a token again only after every other token of the pool, even
 * when several servers take turns (see `measureGroup`).
 */
const poolCursors = new Map<string, number>();

/**
 * For the uncached variants: one autocannon request template whose `setupRequest` puts the next
 * token of the pool in the Authorization header, so every request (across all connections) carries
 * another token. `sent` counts the tokens handed out by this run.
 */
function rotatingTokens(
  variant: VariantInfo,
  pool: readonly string[],
): {
  requests: autocannon.Request[];
  sent: () => number;
} {
  const first = poolCursors.get(variant.name) ?? 0;
  let cursor = first;
  const setupRequest = (request: autocannon.Request): autocannon.Request => {
    const token = pool[cursor++ % pool.length] ?? '';
    poolCursors.set(variant.name, cursor);
    return {
      ...request,
      headers: { ...request.headers, authorization: `Bearer ${token}` },
    };
  };
  return {
    requests: [{ method: 'GET', path: ROUTE, setupRequest }],
    sent: () => cursor - first,
  };
}

function cannon(
  variant: VariantInfo,
  port: number,
  setup: Setup,
  durationSec: number,
  onLatency?: (ms: number) => void,
): Promise<LoadRun> {
  const target = targetOf(variant, port, setup.fixtures);
  const rotation = variant.uniqueTokens ? rotatingTokens(variant, setup.tokenPool) : undefined;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: target.url,
        connections: CONNECTIONS,
        duration: durationSec,
        headers: rotation ? {} : target.headers,
        ...(rotation ? { requests: rotation.requests } : {}),
        ...(target.tls ? { tlsOptions: target.tls } : {}),
      },
      (error: unknown, result) => {
        if (error) reject(error instanceof Error ? error : new Error(inspect(error)));
        else
          resolve({
            ...fromAutocannon(result),
            ...(rotation ? { tokensSent: rotation.sent() } : {}),
          });
      },
    );
    if (onLatency) {
      instance.on('response', (_client, statusCode, _bytes, responseTime) => {
        if (statusCode >= 200 && statusCode < 300) onLatency(responseTime);
      });
    }
  });
}

function fromAutocannon(result: autocannon.Result): LoadRun {
  const problems: string[] = [];
  if (result.non2xx > 0) {
    const codes = Object.entries(result.statusCodeStats ?? {})
      .filter(([code]) => !code.startsWith('2'))
      .map(([code, s]) => `${code}×${s.count ?? 0}`)
      .join(', ');
    problems.push(`${result.non2xx} non-2xx responses (${codes})`);
  }
  if (result.errors > 0) problems.push(`${result.errors} connection errors`);
  if (result.timeouts > 0) problems.push(`${result.timeouts} timeouts`);
  if (result.mismatches > 0) problems.push(`${result.mismatches} body mismatches`);
  return { responses: result.requests.total, durationSec: result.duration, problems };
}

/**
 * `CONNECTIONS` concurrent loops of one request per connection: node:https with `agent: false`
 * (a fresh Agent, hence no TLS session to resume), the same client certificate every time, from
 * one secure context built up front (so the client does not parse PEM per request). Like
 * autocannon, the client does not verify the server here (the probe did). Latency runs from the
 * request's creation, i.e. it includes TCP connect and the TLS handshake, to the end of the body.
 */
async function newConnectionLoad(
  variant: VariantInfo,
  port: number,
  fx: Fixtures,
  durationSec: number,
  onLatency?: (ms: number) => void,
): Promise<LoadRun> {
  const target = targetOf(variant, port, fx);
  if (!target.tls) throw new BenchError(`${variant.name}: new-connection load needs HTTPS`);
  if (variant.uniqueTokens)
    throw new BenchError(`${variant.name}: the token pool is for keep-alive variants only`);
  const options = {
    method: 'GET',
    headers: target.headers,
    secureContext: createSecureContext(target.tls),
    rejectUnauthorized: false,
    agent: false as const,
    timeout: REQUEST_TIMEOUT_MS,
  };
  const expected = JSON.stringify(HELLO_BODY);
  let responses = 0;
  let mismatches = 0;
  let resumed = 0;
  let timeouts = 0;
  let errors = 0;
  let firstError: string | undefined;
  const non2xx = new Map<number, number>();

  const once = (): Promise<void> =>
    new Promise<void>((resolve) => {
      const started = performance.now();
      let settled = false;
      let timedOut = false;
      const fail = (error: Error): void => {
        if (settled) return;
        settled = true;
        if (timedOut) timeouts++;
        else {
          errors++;
          firstError ??= error.message;
        }
        resolve();
      };
      const req = httpsRequest(target.url, options, (res) => {
        if ((res.socket as TLSSocket).isSessionReused()) resumed++;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('error', fail);
        res.on('end', () => {
          if (settled) return;
          settled = true;
          responses++;
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            onLatency?.(performance.now() - started);
            if (body !== expected) mismatches++;
          } else {
            non2xx.set(status, (non2xx.get(status) ?? 0) + 1);
          }
          resolve();
        });
      });
      req.on('timeout', () => {
        timedOut = true;
        req.destroy(new Error('request timed out'));
      });
      req.on('error', fail);
      req.end();
    });

  const startedAt = performance.now();
  const deadline = startedAt + durationSec * 1000;
  const loop = async (): Promise<void> => {
    while (performance.now() < deadline) await once();
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, loop));
  const elapsedSec = (performance.now() - startedAt) / 1000;

  const problems: string[] = [];
  if (non2xx.size > 0) {
    const count = [...non2xx.values()].reduce((a, b) => a + b, 0);
    const codes = [...non2xx].map(([code, n]) => `${code}×${n}`).join(', ');
    problems.push(`${count} non-2xx responses (${codes})`);
  }
  if (errors > 0) problems.push(`${errors} connection errors (first: ${firstError ?? '?'})`);
  if (timeouts > 0) problems.push(`${timeouts} timeouts`);
  if (mismatches > 0) problems.push(`${mismatches} body mismatches`);
  if (resumed > 0)
    problems.push(`${resumed} TLS sessions resumed (every request must do a full handshake)`);
  return { responses, durationSec: elapsedSec, problems };
}

function load(
  variant: VariantInfo,
  port: number,
  setup: Setup,
  durationSec: number,
  onLatency?: (ms: number) => void,
): Promise<LoadRun> {
  return variant.connection === 'new'
    ? newConnectionLoad(variant, port, setup.fixtures, durationSec, onLatency)
    : cannon(variant, port, setup, durationSec, onLatency);
}

function checkRun(variant: VariantInfo, phase: string, run: LoadRun): void {
  const problems = [...run.problems];
  if (run.responses === 0) problems.push('no responses at all');
  if (problems.length > 0)
    throw new BenchError(`${variant.name} (${phase}): ${problems.join('; ')}`);
}

/** What one measured run on a started, warmed-up server added up to. */
interface RunTotals {
  responses: number;
  durationSec: number;
  wallMs: number;
  /** Undefined without /proc. */
  serverCpuMs: number | undefined;
  clientCpuMs: number;
  tokensSent: number | undefined;
}

function addTotals(a: RunTotals | undefined, b: RunTotals): RunTotals {
  if (!a) return b;
  const sum = (x: number | undefined, y: number | undefined) =>
    x === undefined || y === undefined ? undefined : x + y;
  return {
    responses: a.responses + b.responses,
    durationSec: a.durationSec + b.durationSec,
    wallMs: a.wallMs + b.wallMs,
    serverCpuMs: sum(a.serverCpuMs, b.serverCpuMs),
    clientCpuMs: a.clientCpuMs + b.clientCpuMs,
    tokensSent: sum(a.tokensSent, b.tokensSent),
  };
}

/** Probe and warm-up on a server just started; returns the tokens the warm-up took. */
async function prepare(
  variant: VariantInfo,
  server: RunningServer,
  setup: Setup,
): Promise<RunTotals> {
  await probe(variant, server.port, setup.fixtures);
  const warmup = await load(variant, server.port, setup, WARMUP_SEC);
  checkRun(variant, 'warm-up', warmup);
  return {
    responses: 0,
    durationSec: 0,
    wallMs: 0,
    serverCpuMs: 0,
    clientCpuMs: 0,
    tokensSent: warmup.tokensSent,
  };
}

/** One measured run; latencies (µs: autocannon's own histogram has 1 ms resolution) go to `histogram`. */
async function measuredRun(
  variant: VariantInfo,
  server: RunningServer,
  setup: Setup,
  durationSec: number,
  histogram: RecordableHistogram,
): Promise<RunTotals> {
  const serverCpuBefore = server.cpuMs();
  const clientCpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  const run = await load(variant, server.port, setup, durationSec, (ms) =>
    histogram.record(Math.max(1, Math.round(ms * 1000))),
  );
  const wallMs = performance.now() - wallBefore;
  const serverCpuAfter = server.cpuMs();
  const clientCpu = process.cpuUsage(clientCpuBefore);
  checkRun(variant, 'measurement', run);
  return {
    responses: run.responses,
    durationSec: run.durationSec,
    wallMs,
    serverCpuMs:
      serverCpuBefore !== undefined && serverCpuAfter !== undefined
        ? serverCpuAfter - serverCpuBefore
        : undefined,
    clientCpuMs: (clientCpu.user + clientCpu.system) / 1000,
    tokensSent: run.tokensSent,
  };
}

function toMeasurement(
  variant: VariantInfo,
  totals: RunTotals,
  histogram: RecordableHistogram,
  warmupTokens: number | undefined,
): Measurement {
  const { responses, serverCpuMs, wallMs } = totals;
  return {
    variant,
    requests: responses,
    rps: responses / totals.durationSec,
    p50: histogram.percentile(50) / 1000,
    p99: histogram.percentile(99) / 1000,
    serverCpuUs: serverCpuMs === undefined ? undefined : (serverCpuMs * 1000) / responses,
    serverCores: serverCpuMs === undefined ? undefined : serverCpuMs / wallMs,
    clientCores: totals.clientCpuMs / wallMs,
    ...(totals.tokensSent !== undefined
      ? { tokensSent: totals.tokensSent + (warmupTokens ?? 0) }
      : {}),
  };
}

async function measure(variant: VariantInfo, setup: Setup): Promise<Measurement> {
  const server = await startServer(variant, setup.fixturesPath);
  try {
    const warmup = await prepare(variant, server, setup);
    const histogram = createHistogram();
    const run = await measuredRun(variant, server, setup, DURATION_SEC, histogram);
    return toMeasurement(variant, run, histogram, warmup.tokensSent);
  } finally {
    await server.stop();
  }
}

/**
 * Subjects measured against their reference in rotating rounds (A B C, B C A, C A B, …), all
 * servers up for the whole time: drift on a shared machine (another process, CPU frequency, the
 * thread pool) hits every side of a round alike, and the median of the per-round ratios ignores a
 * round that one of them lost to a hiccup. Each side's row adds up all its rounds.
 */
async function measureGroup(
  reference: VariantInfo,
  subjects: readonly VariantInfo[],
  setup: Setup,
): Promise<Measurement[]> {
  const sides = [reference, ...subjects];
  const servers: RunningServer[] = [];
  try {
    for (const v of sides) servers.push(await startServer(v, setup.fixturesPath));
    const warmups: RunTotals[] = [];
    for (const [i, v] of sides.entries())
      warmups.push(await prepare(v, servers[i] as RunningServer, setup));
    const histograms = sides.map(() => createHistogram());
    const totals: (RunTotals | undefined)[] = sides.map(() => undefined);
    const rounds: PairedRound[][] = subjects.map(() => []);
    for (let round = 0; round < PAIR_ROUNDS; round++) {
      const runs: RunTotals[] = [];
      for (let k = 0; k < sides.length; k++) {
        const i = (round + k) % sides.length;
        const run = await measuredRun(
          sides[i] as VariantInfo,
          servers[i] as RunningServer,
          setup,
          PAIR_ROUND_SEC,
          histograms[i] as RecordableHistogram,
        );
        runs[i] = run;
        totals[i] = addTotals(totals[i], run);
      }
      const cpuUsOf = (r: RunTotals) =>
        r.serverCpuMs === undefined ? undefined : (r.serverCpuMs * 1000) / r.responses;
      const ref = runs[0] as RunTotals;
      subjects.forEach((_, j) => {
        const sub = runs[j + 1] as RunTotals;
        rounds[j]?.push({
          referenceRps: ref.responses / ref.durationSec,
          subjectRps: sub.responses / sub.durationSec,
          referenceCpuUs: cpuUsOf(ref),
          subjectCpuUs: cpuUsOf(sub),
        });
      });
    }
    return sides.map((v, i) => {
      const m = toMeasurement(
        v,
        totals[i] as RunTotals,
        histograms[i] as RecordableHistogram,
        warmups[i]?.tokensSent,
      );
      if (i > 0) m.paired = pairedRatios(rounds[i - 1] as PairedRound[]);
      return m;
    });
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

// ── report ──────────────────────────────────────────────────────────────────────────────────────

function ratio(value: number, base: Measurement | undefined): string {
  return base ? `${(value / base.rps).toFixed(2)}×` : '—';
}

function cpuUs(m: Measurement): string {
  return m.serverCpuUs === undefined ? '—' : Math.round(m.serverCpuUs).toLocaleString('en-US');
}

/** Server CPU µs per request added by `m` over `base`, signed. */
function cpuAdded(m: Measurement, base: Measurement): string {
  if (m.serverCpuUs === undefined || base.serverCpuUs === undefined) return '—';
  const delta = m.serverCpuUs - base.serverCpuUs;
  return `${delta >= 0 ? '+' : '−'}${Math.round(Math.abs(delta)).toLocaleString('en-US')}`;
}

function connectionLabel(variant: VariantInfo): string {
  return variant.connection === 'new' ? 'new per request' : 'keep-alive';
}

/** Identity only: STRICT mTLS and a policy on the principal, no token. */
function isIdentityOnly(variant: VariantInfo): boolean {
  return variant.server.endsWith('-meshless-mtls');
}

function finder(results: Measurement[]) {
  return (name: string | undefined) =>
    name === undefined ? undefined : results.find((r) => r.variant.name === name);
}

interface Table {
  header: string[];
  /** Columns aligned right. */
  right: ReadonlySet<number>;
  rows: string[][];
}

function mainTable(results: Measurement[]): Table {
  const find = finder(results);
  const rows = results.map((r) => {
    const { framework, transport, connection } = r.variant;
    // "vs bare HTTP" only within keep-alive rows; "vs bare mTLS" within the same connection mode.
    const bareHttp = connection === 'keep-alive' ? find(framework) : undefined;
    const bareMtlsName = bareMtlsOf(r.variant);
    return [
      r.variant.name,
      framework,
      transport === 'http' ? 'HTTP' : 'HTTPS mTLS',
      connectionLabel(r.variant),
      r.variant.auth,
      tokenLabel(r.variant),
      Math.round(r.rps).toLocaleString('en-US'),
      r.p50.toFixed(2),
      r.p99.toFixed(2),
      cpuUs(r),
      r.variant.name === framework
        ? '1.00×'
        : connection === 'keep-alive'
          ? ratio(r.rps, bareHttp)
          : '',
      bareMtlsName ? ratio(r.rps, find(bareMtlsName)) : '',
    ];
  });
  return {
    header: [
      'variant',
      'framework',
      'transport',
      'connection',
      'auth',
      'token',
      'req/s',
      'p50 ms',
      'p99 ms',
      'server CPU µs/req',
      'vs bare HTTP',
      'vs bare mTLS',
    ],
    right: new Set([6, 7, 8, 9, 10, 11]),
    rows,
  };
}

/** Which token the client sends: one for every request (cached path) or another each time. */
function tokenLabel(variant: VariantInfo): string {
  return !variant.token ? '' : variant.uniqueTokens ? 'unique per request' : 'same';
}

/** The jose-direct reference of an uncached variant: same framework, same token pool. */
function joseOf(variant: VariantInfo): string | undefined {
  return variant.uniqueTokens ? `${variant.framework}-jose-uncached` : undefined;
}

/**
 * The meshless uncached rows whose jose reference is selected too, per reference: measured as a
 * group, so that their ratios come from rotating rounds rather than separate runs.
 */
function referenceGroups(variants: readonly VariantInfo[]): Map<VariantInfo, VariantInfo[]> {
  const groups = new Map<VariantInfo, VariantInfo[]>();
  for (const v of variants) {
    const reference = variants.find((r) => r.name === joseOf(v));
    if (!reference || reference === v || !v.server.includes('-meshless-')) continue;
    groups.set(reference, [...(groups.get(reference) ?? []), v]);
  }
  return groups;
}

/**
 * The bearer-token rows over plain HTTP side by side: the cached path (the same token on every
 * request) and the uncached path (another token each time), the uncached ones against jose
 * called directly with the same tokens.
 */
function jwtTable(results: Measurement[]): Table {
  const find = finder(results);
  const rows: string[][] = [];
  for (const uncached of [false, true]) {
    for (const r of results) {
      const v = r.variant;
      if (!v.token || v.transport !== 'http' || Boolean(v.uniqueTokens) !== uncached) continue;
      const jose = find(joseOf(v));
      const isJose = jose !== undefined && jose === r;
      rows.push([
        v.name,
        uncached ? 'uncached (unique token per request)' : 'cached path (same token)',
        v.auth,
        Math.round(r.rps).toLocaleString('en-US'),
        r.p50.toFixed(2),
        r.p99.toFixed(2),
        cpuUs(r),
        isJose
          ? '1.00×'
          : r.paired
            ? `**${r.paired.rps.toFixed(2)}×** (${r.paired.rpsMin.toFixed(2)}–${r.paired.rpsMax.toFixed(2)})`
            : jose
              ? ratio(r.rps, jose)
              : '',
        isJose
          ? '1.00×'
          : r.paired?.cpu !== undefined
            ? `${r.paired.cpu.toFixed(2)}×`
            : jose?.serverCpuUs !== undefined && r.serverCpuUs !== undefined
              ? `${(jose.serverCpuUs / r.serverCpuUs).toFixed(2)}×`
              : '',
      ]);
    }
  }
  return {
    header: [
      'variant',
      'path',
      'auth',
      'req/s',
      'p50 ms',
      'p99 ms',
      'server CPU µs/req',
      'req/s vs jose',
      'jose CPU / this CPU',
    ],
    right: new Set([3, 4, 5, 6, 7, 8]),
    rows,
  };
}

/** How often the uncached variants went round the token pool (at most once is expected). */
function poolText(results: Measurement[]): string {
  const sent = results.flatMap((r) => (r.tokensSent === undefined ? [] : [r.tokensSent]));
  if (sent.length === 0) return '';
  const most = Math.max(...sent);
  const wraps = Math.ceil(most / TOKEN_POOL);
  return (
    `The pool holds ${TOKEN_POOL.toLocaleString('en-US')} distinct tokens (same claims, each ` +
    `with its own \`jti\`), signed before the run; each server process starts with empty caches ` +
    `and received at most ${most.toLocaleString('en-US')} requests (warm-up included), so ` +
    (wraps <= 1
      ? 'no token reached the same server twice.'
      : `a token reached the same server at most ${wraps} times, each time after the ` +
        `${(TOKEN_POOL - 1).toLocaleString('en-US')} other tokens of the pool (each server has ` +
        `its own place in the pool), i.e. long after meshless's ` +
        `10,000-entry LRUs (verified tokens, tokens seen once) had forgotten it.`)
  );
}

/** The in-process token verification figures. */
function jwtMicroText(micro: JwtMicro | undefined): string {
  if (!micro) return '';
  const us = (ns: number) => (ns / 1000).toFixed(1);
  return (
    `**Token verification, in process** (bench/src/jwt-micro.ts, ES256, ${micro.rounds} ` +
    `interleaved rounds of ${micro.tokens.toLocaleString('en-US')} distinct tokens): jose ` +
    `\`jwtVerify\` with \`createLocalJWKSet\` takes ${us(micro.joseNs)} µs per token (best ` +
    `round); meshless \`JwtVerifier.verify\` on a token it has not seen takes ` +
    `${us(micro.meshlessUncachedNs)} µs. meshless/jose (throughput ratio, median of the per-round ` +
    `ratios; target ≥ 0.90) = **${micro.medianRatio.toFixed(2)}** on elapsed time and ` +
    `**${micro.medianCpuRatio.toFixed(2)}** on CPU time (main thread and thread pool). A token ` +
    `already in the verified-token cache takes ${us(micro.meshlessCachedNs)} µs (best of 5 × ` +
    `${micro.cachedCalls.toLocaleString('en-US')}).`
  );
}

/** The cost of telemetry per check. */
function telemetryMicroText(micro: TelemetryMicro | undefined): string {
  if (!micro) return '';
  const base = (micro.rows[0] as { ns: number }).ns;
  const rows = micro.rows.map(
    (r) =>
      `| ${r.label} | ${(r.ns / 1000).toFixed(2)} | ${r.spansPerCheck.toFixed(0)} | ${r === micro.rows[0] ? '' : `+${((r.ns - base) / 1000).toFixed(2)}`} |`,
  );
  return [
    '| telemetry | `guard.check` µs | spans per check | added µs |',
    '| --- | ---: | ---: | ---: |',
    ...rows,
  ].join('\n');
}

function policyCallsText(micro: PolicyMicro | undefined): string {
  return micro
    ? `Percentiles over ${micro.calls.toLocaleString('en-US')} calls per size, after as many warm-up calls.`
    : '';
}

/** Policy evaluation against the number of rules. */
function policyMicroText(micro: PolicyMicro | undefined): string {
  if (!micro) return '';
  const us = (ns: number) => (ns / 1000).toFixed(2);
  const rows = micro.rows.map(
    (r) =>
      `| ${r.rules.toLocaleString('en-US')} | ${us(r.p50Ns)} | ${us(r.p99Ns)} | ${us(r.addedP50Ns)} |`,
  );
  return [
    '| rules in the ALLOW policy | `guard.check` p50 µs | p99 µs | added by the rules, p50 µs |',
    '| ---: | ---: | ---: | ---: |',
    ...rows,
  ].join('\n');
}

function percentChange(value: number, base: number): string {
  const change = (value / base - 1) * 100;
  return `${change >= 0 ? '+' : '−'}${Math.abs(change).toFixed(1)} %`;
}

/** Each identity-only row next to the bare mTLS row of its framework and connection mode. */
function identityTable(results: Measurement[]): Table {
  const find = finder(results);
  const rows: string[][] = [];
  for (const r of results) {
    if (!isIdentityOnly(r.variant)) continue;
    // Against bare mTLS (the whole guard), and on keep-alive against the same guard with the
    // identity stage off (the identity alone).
    const bases = [find(bareMtlsOf(r.variant))];
    if (r.variant.connection === 'keep-alive')
      bases.push(find(`${r.variant.framework}-meshless-noid`));
    for (const base of bases) {
      if (!base) continue;
      rows.push([
        r.variant.framework,
        connectionLabel(r.variant),
        `${base.variant.name} → ${r.variant.name}`,
        `${Math.round(base.rps).toLocaleString('en-US')} → ${Math.round(r.rps).toLocaleString('en-US')}`,
        `${(r.rps / base.rps).toFixed(3)}×`,
        percentChange(r.rps, base.rps),
        `${base.p50.toFixed(2)} → ${r.p50.toFixed(2)}`,
        `${base.p99.toFixed(2)} → ${r.p99.toFixed(2)}`,
        `${cpuUs(base)} → ${cpuUs(r)}`,
        cpuAdded(r, base),
      ]);
    }
  }
  return {
    header: [
      'framework',
      'connection',
      'rows',
      'req/s',
      'ratio',
      'req/s change',
      'p50 ms',
      'p99 ms',
      'server CPU µs/req',
      'CPU µs added',
    ],
    right: new Set([3, 4, 5, 6, 7, 8, 9]),
    rows,
  };
}

function markdownTable({ header, right, rows }: Table): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const rule = header.map((_, i) => (right.has(i) ? '---:' : '---'));
  return [line(header), line(rule), ...rows.map(line)].join('\n');
}

function consoleTable({ header, right, rows }: Table): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ');
  return [fmt(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n');
}

function environment(): { date: string; node: string; cpu: string; cores: number } {
  const list = cpus();
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    node: process.version,
    cpu: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
  };
}

/** The in-process identity-stage cost, against the bare Fastify mTLS server's CPU per request. */
function identityMicroText(results: Measurement[], micro: IdentityMicro | undefined): string {
  if (!micro) return '';
  const added = micro.withIdentityNs - micro.withoutIdentityNs;
  const bareCpu = results.find((r) => r.variant.name === 'fastify-https-mtls')?.serverCpuUs;
  const share =
    bareCpu !== undefined && bareCpu > 0
      ? ` That is ${((added / 1000 / bareCpu) * 100).toFixed(1)} % of the ${bareCpu.toFixed(0)} µs of server CPU a bare Fastify mTLS request takes in this run.`
      : '';
  return `**Identity stage alone, in process** (bench/src/identity-micro.ts: \`guard.check\` on one verified keep-alive TLS socket, best of 5 × 100,000): ${micro.withoutIdentityNs.toFixed(0)} ns per check without the identity stage, ${micro.withIdentityNs.toFixed(0)} ns with it, so the identity costs **${added.toFixed(0)} ns** per request on a keep-alive connection.${share}`;
}

function markdownReport(
  results: Measurement[],
  micro: IdentityMicro | undefined,
  jwtMicro: JwtMicro | undefined,
  policyMicro: PolicyMicro | undefined,
  telemetryMicro: TelemetryMicro | undefined,
): string {
  const env = environment();
  return `# Benchmarks

<!-- Generated by \`pnpm bench\` (bench/src/run.ts). Do not edit by hand: re-run it. -->

- Date: ${env.date}
- Node: ${env.node}
- CPU: ${env.cpu} (${env.cores} logical cores)
- Load: ${CONNECTIONS} concurrent connections, ${DURATION_SEC} s per variant after a ${WARMUP_SEC} s warm-up (the uncached bearer-token rows: ${PAIR_ROUNDS} rotating rounds of ${PAIR_ROUND_SEC} s, see below), loopback (127.0.0.1); keep-alive rows with autocannon, "new per request" rows with a node:https loop (one TLS handshake per request)

${markdownTable(mainTable(results))}

## Bearer tokens: cached and uncached paths

${markdownTable(jwtTable(results))}

The cached-path rows send the same token on every request: meshless (and @fastify/jwt with
\`cache: true\`) verify its signature once and answer later requests from the verified-token cache,
while express-oauth2-jwt-bearer, express-jwt + jwks-rsa and @fastify/jwt with its defaults verify
it on every request. The uncached rows send another valid token with every request, so every
request pays the signature check: \`*-jose-uncached\` is jose's \`jwtVerify\` called directly in an
\`onRequest\` hook (Fastify) or a middleware (Express) with \`createRemoteJWKSet\` on the same JWKS
and the same checks (ES256, iss, aud, exp), no cache: the reference, since meshless verifies with
jose. \`*-meshless-verifier-uncached\` is meshless's verification called the same way
(\`JwtVerifier.verify\`, what the guard's token stage runs: cache lookup, issuer rule, key store,
jose's signature check, claim checks), so these two rows compare verification with verification.
\`*-meshless-jwt-uncached\` is the whole guard as users mount it: verification plus request facts,
path normalization, an \`AuthorizationPolicy\` on \`requestPrincipals\`, the token removed from the
request (Istio's \`forwardOriginalToken: false\`) and \`req.auth\` set, none of which the jose row does.

The uncached rows are measured as a group: the jose server and both meshless servers run side by
side and take turns, ${PAIR_ROUNDS} rounds of ${PAIR_ROUND_SEC} s each (the order rotates every
round). "req/s vs jose" is, for meshless, the **median of the per-round ratios** to the jose run of
the same round, with the lowest and highest round in parentheses (target for meshless: ≥ 0.90);
for the other libraries it divides by the jose row's overall figure. "jose CPU / this CPU" is the
same comparison on server CPU per request. The spread of the rounds is the noise of this machine
(two shared cores carrying the server, its thread pool and the load generator): read the median,
and the in-process and instruction-count figures under "Token verification" for a steadier number.
jose verifies ES256 through WebCrypto, which runs the signature check on libuv's thread pool, so a
server can use more than one core. req/s. ${poolText(results)}

## Token verification

${jwtMicroText(jwtMicro)}

Over HTTP the uncached rows carry the framework, the load generator on the same cores and the
thread pool; this in-process measurement carries none of that, so it is the stable number for what
meshless adds around jose on a token it has not seen: the cache lookup (SHA-256 of the token), one
decode of header and payload to pick the issuer's rule before any key lookup, the key store lookup,
jose's \`compactVerify\` for the signature, the claim and rule checks on the decoded payload and
freezing the verified claims. The reference is jose's \`jwtVerify\` (signature and claims). The
cached figure is what the cached-path rows pay per request for the token. On a shared machine the
elapsed-time ratio moves by a few hundredths from run to run; counted instructions do not: with
valgrind (\`bench/instructions.sh\`: callgrind, instrumentation on only while 1,000 fresh tokens
are verified after a 3,000-token warm-up) meshless ran 1.076 M instructions per uncached token
against jose's 1.069 M (0.99) on Node 20.20 (2026-11-22; not part of \`pnpm bench\`).

## Policy evaluation

${policyMicroText(policyMicro)}

bench/src/policy-micro.ts, in process: \`guard.check\` (no identity, no token) on a workload with one
ALLOW policy of N rules shaped like an API gateway's (each rule: methods, a path prefix, a tenant
header in \`when\`) and a 10-rule DENY policy that does not match; the request matches only the
**last** rule, the worst position for a linear scan. ${policyCallsText(policyMicro)} "Added by the
rules" subtracts the p50 with a single rule (the rest of \`guard.check\`: request facts, path
normalization, telemetry). Targets for the added cost: p50 < 2 µs at 100 rules, < 10 µs at 10,000.

## Telemetry cost

${telemetryMicroText(telemetryMicro)}

bench/src/telemetry-micro.ts, in process: \`guard.check\` of a request with a token already in the
verified-token cache and an \`AuthorizationPolicy\` on \`requestPrincipals\` (three spans per check:
\`authn.mtls\`, \`authn.jwt\`, \`authz.decision\`), best of 5 interleaved rounds of
${(telemetryMicro?.checks ?? 0).toLocaleString('en-US')} checks. "No SDK registered" is what an
application without OpenTelemetry pays; "SDK recording every span" uses an always-on sampler and a
\`SimpleSpanProcessor\` into an exporter that drops the spans, so the figure is meshless's spans plus
the SDK's own span bookkeeping, not export or network. The last row adds \`@opentelemetry/sdk-metrics\`
(two histogram points per check: \`meshless.authn.duration\` and \`meshless.authz.duration\`,
exported once a minute) and \`@opentelemetry/sdk-logs\` (an allowed request emits no log event).

## Identity cost

${markdownTable(identityTable(results))}

${identityMicroText(results, micro)}

The \`*-meshless-mtls\` rows are the bare mTLS server of the same framework plus meshless in STRICT
mode with a single \`AuthorizationPolicy\` that requires only
\`principals: ["cluster.local/ns/payments/sa/checkout"]\` (\`cluster.local\` stands for the
workload's trust domain): no \`RequestAuthentication\`, no token, so they measure the peer identity
alone. On a keep-alive connection (target: within 2 % of bare mTLS) only the first request of a
connection resolves the SVID; every later one takes the verdict from the per-socket cache, re-checks
the validity period and runs the rest of the guard (request facts, path normalization, policy). The
\`-newconn\` rows open a new connection with a full TLS handshake for every request, always with
the same client certificate: the per-socket cache never hits, so each request reads the chain from
the socket (\`getPeerCertificate(true)\`); a chain already seen under the same anchors takes its
verdict from the per-chain cache, so nothing is parsed or re-verified. On keep-alive, the
\`*-meshless-noid → *-meshless-mtls\` row isolates the identity stage: the same listener and guard
with \`mtls.mode: DISABLE\` and an allow-all policy, so the ratio is what the identity alone costs
(the \`bare mTLS → meshless-mtls\` row adds the rest of the guard). Both rows of a pair pay the same handshake and serve the same response, so
"CPU µs added" is what meshless costs per request (keep-alive) or per new connection; it is steadier
than the req/s ratio when other processes share the cores. Before a meshless mTLS variant is
measured, a verified certificate of another service account from the same CA must be refused with
403.

## How it is measured

Each variant is a separate Node process (\`bench/dist/server.js <server>\`) that answers
\`GET ${ROUTE}\` with the same small JSON body; the load generator runs in the orchestrator process,
on the same machine, over loopback. Keep-alive rows use autocannon. "new per request" rows use
${CONNECTIONS} concurrent loops of node:https requests with \`agent: false\`: every request opens a
TCP connection and does a full TLS handshake (a resumed session aborts the run) and is closed after
the response; their latency includes connect and handshake. (autocannon's \`reconnectRate\` is no
substitute: it drops the response that triggers the reconnect from its counts.) Before a variant is
measured, one request must answer 200 with the expected body, and a run with any non-2xx response,
connection error or timeout aborts the benchmark, so a misconfigured variant cannot produce
fast-but-wrong numbers. p50/p99 are taken from every 2xx response of the measured run at
microsecond resolution; req/s is responses divided by the run's duration. "server CPU µs/req" is
the CPU time (user + system, from /proc) the server process used during the measured run divided
by its responses: unlike req/s it does not drop when other processes take the cores, so it is the
steadier figure for what a variant adds. Servers run with \`NODE_ENV=production\` and no logging.

Every authenticated variant checks an ES256 token (signature, iss, aud, exp), whose key comes
from a JWKS on loopback (fetched once) or, for @fastify/jwt, from the PEM public key; the same
token on every request, except the \`*-uncached\` rows (a pool of distinct tokens, see above).
express-oauth2-jwt-bearer, express-jwt, @fastify/jwt and jose verify only the token. The meshless JWT variants also
evaluate an Istio \`AuthorizationPolicy\` (ALLOW, \`requestPrincipals\`); the
\`*-meshless-mtls-jwt\` rows run the full pipeline: SPIFFE identity from the client X.509-SVID
(STRICT), the token, and a policy requiring both the principal and the request principal (the
identity-only \`*-meshless-mtls\` rows are described above). meshless caches verified tokens
(by SHA-256, with exp/nbf re-checked on each hit) and peer identities per TLS socket, so with one
token and keep-alive connections the signature is verified once, not per request, while
express-oauth2-jwt-bearer, express-jwt and @fastify/jwt with its defaults verify the signature on every
request; the \`fastify-jwt-cached\` row turns fast-jwt's verified-token cache on, which is the
like-for-like comparison for the cached path. The "HTTPS mTLS" baselines only do the TLS handshake
with \`requestCert\` + \`rejectUnauthorized\`; the meshless mTLS variants use
\`rejectUnauthorized: false\` as in examples/payments, so that the guard answers a missing or
untrusted certificate.

"vs bare HTTP" is req/s divided by the bare framework over plain HTTP (keep-alive rows only); "vs
bare mTLS" divides the mTLS variants by the bare framework over HTTPS mTLS with the same connection
mode. Load generator and server share the machine: on a small shared machine (e.g. 2 cores)
absolute numbers are noisy from run to run, and the "new per request" rows load the client about as
much as the server; compare the ratios within one run.
`;
}

// ── main ────────────────────────────────────────────────────────────────────────────────────────

async function main(): Promise<void> {
  const variants = selectedVariants();
  const partial = variants.length !== VARIANTS.length;
  const env = environment();
  console.log(
    `meshless bench: ${variants.length} variants, ${DURATION_SEC} s each (+${WARMUP_SEC} s warm-up), ` +
      `${CONNECTIONS} connections, Node ${env.node}, ${env.cpu} ×${env.cores}`,
  );
  const setup = await createFixtures();
  const results: Measurement[] = [];
  try {
    const cores = (c: number | undefined) => (c === undefined ? '?' : c.toFixed(2));
    const show = (m: Measurement): void =>
      console.log(
        `  ${m.variant.name.padEnd(36)}${Math.round(m.rps).toLocaleString('en-US').padStart(8)} req/s  ` +
          `p50 ${m.p50.toFixed(2)} ms  p99 ${m.p99.toFixed(2)} ms  (${m.requests} responses; ` +
          `CPU cores busy: server ${cores(m.serverCores)}, client ${cores(m.clientCores)})` +
          (m.paired
            ? `; paired with its jose row: ${m.paired.rps.toFixed(2)}× req/s (rounds ` +
              `${m.paired.rpsMin.toFixed(2)}–${m.paired.rpsMax.toFixed(2)})`
            : ''),
      );
    const groups = referenceGroups(variants);
    const grouped = new Set([...groups.values()].flat());
    for (const variant of variants) {
      if (grouped.has(variant)) continue; // measured with its reference
      const subjects = groups.get(variant);
      const measured = subjects
        ? await measureGroup(variant, subjects, setup)
        : [await measure(variant, setup)];
      for (const m of measured) {
        results.push(m);
        show(m);
      }
    }
    const order = (m: Measurement) => VARIANTS.findIndex((v) => v.name === m.variant.name);
    results.sort((a, b) => order(a) - order(b));
  } finally {
    await setup.close();
  }

  console.log(`\n${consoleTable(mainTable(results))}\n`);
  const identity = identityTable(results);
  const micro = partial ? undefined : await measureIdentityStage();
  if (micro) console.log(identityMicroText(results, micro).replace(/\n/g, ' ') + '\n');
  if (identity.rows.length > 0) console.log(`Identity cost\n${consoleTable(identity)}\n`);
  const jwt = jwtTable(results);
  if (jwt.rows.length > 0) console.log(`Bearer tokens\n${consoleTable(jwt)}\n`);
  const jwtMicro = partial ? undefined : await measureTokenVerification();
  if (jwtMicro) console.log(jwtMicroText(jwtMicro) + '\n');
  const policyMicro = partial ? undefined : await measurePolicyEvaluation();
  if (policyMicro) console.log(`Policy evaluation\n${policyMicroText(policyMicro)}\n`);
  const telemetryMicro = partial ? undefined : await measureTelemetry();
  if (telemetryMicro) console.log(`Telemetry cost\n${telemetryMicroText(telemetryMicro)}\n`);
  if (partial) {
    console.log('BENCH_VARIANTS selects a subset: docs/benchmarks.md not written.');
    return;
  }
  writeFileSync(DOCS_FILE, markdownReport(results, micro, jwtMicro, policyMicro, telemetryMicro));
  console.log(`wrote ${DOCS_FILE}`);
}

main().then(
  () => {
    killAll();
    process.exit(0);
  },
  (error: unknown) => {
    const text =
      error instanceof BenchError
        ? error.message
        : error instanceof Error
          ? (error.stack ?? error.message)
          : inspect(error);
    console.error(`\nbench failed: ${text}`);
    killAll();
    process.exit(1);
  },
);
