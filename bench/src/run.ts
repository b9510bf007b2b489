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
 * (extra node flags for the server processes, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`),
 * `BENCH_TOKEN_POOL` (distinct tokens for the uncached rows, default 20,000), `BENCH_PAIR_ROUNDS`
 * and `BENCH_PAIR_ROUND` (the uncached rows of a framework run as a group against their jose row,
 * taking turns: rounds, default 9, of seconds per server, default 2; see `measureGroup`).
 * Settings: settings.ts; tables and report text: report.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, createServer, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHistogram, performance, type RecordableHistogram } from 'node:perf_hooks';
import { createSecureContext, type TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { createTestCa } from '@meshless/testing';
import { measureIdentityStage } from './identity-micro.js';
import { measureTokenVerification } from './jwt-micro.js';
import { pairedRatios, type PairedRound } from './paired.js';
import { measurePolicyEvaluation } from './policy-micro.js';
import { measureTelemetry } from './telemetry-micro.js';
import autocannon from 'autocannon';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import {
  FIXTURES_ENV,
  HELLO_BODY,
  READY_PREFIX,
  ROUTE,
  VARIANTS,
  readFixtures,
  type Fixtures,
  type FixturesFile,
  type VariantInfo,
} from './common.js';
import {
  consoleTable,
  environment,
  identityMicroText,
  identityTable,
  joseOf,
  jwtMicroText,
  jwtTable,
  mainTable,
  markdownReport,
  policyMicroText,
  telemetryMicroText,
  type Measurement,
} from './report.js';
import {
  BenchError,
  CONNECTIONS,
  DURATION_SEC,
  PAIR_ROUND_SEC,
  PAIR_ROUNDS,
  TOKEN_POOL,
  WARMUP_SEC,
} from './settings.js';

const STARTUP_TIMEOUT_MS = 10_000;
const PROBE_TIMEOUT_MS = 5_000;
/** Per request of the new-connection load (autocannon's default timeout is 10 s as well). */
const REQUEST_TIMEOUT_MS = 10_000;
const SERVER_SCRIPT = fileURLToPath(new URL('./server.js', import.meta.url));
const DOCS_FILE = fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url));

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
