/**
 * `pnpm bench`: the benchmark harness. Generates fixtures once (test CA, server and client SVIDs,
 * an ES256 key, a JWKS served on loopback, one token), then for each variant starts
 * `bench/dist/server.js <variant>` as a separate process, checks one request answers 200, runs
 * autocannon against it (warm-up, then the measured run), stops it, and finally prints a table and
 * writes docs/benchmarks.md.
 *
 * Environment: `BENCH_DURATION` (seconds per variant, default 5), `BENCH_WARMUP` (seconds, default
 * 1), `BENCH_CONNECTIONS` (default 10), `BENCH_VARIANTS` (comma-separated subset; docs are then
 * not written), `BENCH_SERVER_NODE_ARGS` (extra node flags for the server processes, e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, createServer, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHistogram } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { createTestCa } from '@meshless/testing';
import autocannon from 'autocannon';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import {
  FIXTURES_ENV,
  HELLO_BODY,
  READY_PREFIX,
  ROUTE,
  VARIANTS,
  readFixtures,
  sendsToken,
  type Fixtures,
  type FixturesFile,
  type VariantInfo,
} from './common.js';

const STARTUP_TIMEOUT_MS = 10_000;
const PROBE_TIMEOUT_MS = 5_000;
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
  close: () => Promise<void>;
}

async function createFixtures(): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'meshless-bench-'));
  const trustDomain = 'example.org';
  const clientSpiffeId = `spiffe://${trustDomain}/ns/payments/sa/checkout`;
  const ca = await createTestCa({ trustDomain });
  const [serverSvid, clientSvid] = await Promise.all([
    ca.issueSvid({
      spiffeId: `spiffe://${trustDomain}/ns/payments/sa/bench-server`,
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
      notAfter: new Date(Date.now() + 6 * 3_600_000),
    }),
    ca.issueSvid({ spiffeId: clientSpiffeId, notAfter: new Date(Date.now() + 6 * 3_600_000) }),
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
  const token = await new SignJWT({ scope: 'payments:write' })
    .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
    .setIssuer(issuer)
    .setAudience(audience)
    .setSubject(subject)
    .setIssuedAt()
    .setExpirationTime('6h')
    .sign(privateKey);

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
    jwtPublicKeyPath: write('jwt-public.pem', await exportSPKI(publicKey)),
    issuer,
    audience,
    subject,
    jwksUri: `http://127.0.0.1:${jwksPort}/jwks.json`,
    token,
  };
  const fixturesPath = write('fixtures.json', JSON.stringify(file, null, 2));
  return {
    fixtures: readFixtures(fixturesPath),
    fixturesPath,
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
  stop: () => Promise<void>;
}

function startServer(variant: VariantInfo, fixturesPath: string): Promise<RunningServer> {
  const nodeArgs = (process.env['BENCH_SERVER_NODE_ARGS'] ?? '').split(/\s+/).filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, SERVER_SCRIPT, variant.name], {
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
      resolve({ port, stop });
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
}

function targetOf(variant: VariantInfo, port: number, fx: Fixtures) {
  const secure = variant.transport === 'https-mtls';
  return {
    url: `${secure ? 'https' : 'http'}://127.0.0.1:${port}${ROUTE}`,
    headers: sendsToken(variant) ? { authorization: `Bearer ${fx.token}` } : {},
    tls: secure ? { ca: fx.caPem, cert: fx.clientCertPem, key: fx.clientKeyPem } : undefined,
  };
}

/** One request before measuring: the variant must answer 200 with the expected body. */
async function probe(variant: VariantInfo, port: number, fx: Fixtures): Promise<void> {
  const target = targetOf(variant, port, fx);
  const { status, body } = await new Promise<{ status: number; body: string }>(
    (resolve, reject) => {
      const onResponse = (res: IncomingMessage): void => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', reject);
      };
      const options = { method: 'GET', headers: target.headers, timeout: PROBE_TIMEOUT_MS };
      const req = target.tls
        ? httpsRequest(target.url, { ...options, ...target.tls, agent: false }, onResponse)
        : httpRequest(target.url, { ...options, agent: false }, onResponse);
      req.on('timeout', () => req.destroy(new Error('probe request timed out')));
      req.on('error', reject);
      req.end();
    },
  );
  if (status !== 200 || body !== JSON.stringify(HELLO_BODY))
    throw new BenchError(
      `${variant.name}: probe GET ${ROUTE} answered ${status} ${body.slice(0, 300)} ` +
        `(expected 200 ${JSON.stringify(HELLO_BODY)}): the variant is misconfigured, not measuring it`,
    );
}

function cannon(
  variant: VariantInfo,
  port: number,
  fx: Fixtures,
  durationSec: number,
  onLatency?: (ms: number) => void,
): Promise<autocannon.Result> {
  const target = targetOf(variant, port, fx);
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: target.url,
        connections: CONNECTIONS,
        duration: durationSec,
        headers: target.headers,
        ...(target.tls ? { tlsOptions: target.tls } : {}),
      },
      (error: unknown, result) => {
        if (error) reject(error instanceof Error ? error : new Error(inspect(error)));
        else resolve(result);
      },
    );
    if (onLatency) {
      instance.on('response', (_client, statusCode, _bytes, responseTime) => {
        if (statusCode >= 200 && statusCode < 300) onLatency(responseTime);
      });
    }
  });
}

function checkResult(variant: VariantInfo, phase: string, result: autocannon.Result): void {
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
  if (result.requests.total === 0) problems.push('no responses at all');
  if (problems.length > 0)
    throw new BenchError(`${variant.name} (${phase}): ${problems.join('; ')}`);
}

async function measure(variant: VariantInfo, setup: Setup): Promise<Measurement> {
  const server = await startServer(variant, setup.fixturesPath);
  try {
    await probe(variant, server.port, setup.fixtures);
    checkResult(variant, 'warm-up', await cannon(variant, server.port, setup.fixtures, WARMUP_SEC));
    // autocannon's own latency histogram has 1 ms resolution; record µs for p50/p99.
    const histogram = createHistogram();
    const result = await cannon(variant, server.port, setup.fixtures, DURATION_SEC, (ms) =>
      histogram.record(Math.max(1, Math.round(ms * 1000))),
    );
    checkResult(variant, 'measurement', result);
    return {
      variant,
      requests: result.requests.total,
      rps: result.requests.total / result.duration,
      p50: histogram.percentile(50) / 1000,
      p99: histogram.percentile(99) / 1000,
    };
  } finally {
    await server.stop();
  }
}

// ── report ──────────────────────────────────────────────────────────────────────────────────────

function ratio(value: number, base: Measurement | undefined): string {
  return base ? `${(value / base.rps).toFixed(2)}×` : '—';
}

function tableRows(results: Measurement[]): string[][] {
  const find = (name: string) => results.find((r) => r.variant.name === name);
  return results.map((r) => {
    const { framework, transport } = r.variant;
    const bareHttp = find(framework);
    const bareMtls = transport === 'https-mtls' ? find(`${framework}-https-mtls`) : undefined;
    return [
      r.variant.name,
      framework,
      transport === 'http' ? 'HTTP' : 'HTTPS mTLS',
      r.variant.auth,
      Math.round(r.rps).toLocaleString('en-US'),
      r.p50.toFixed(2),
      r.p99.toFixed(2),
      r.variant.name === framework ? '1.00×' : ratio(r.rps, bareHttp),
      transport === 'https-mtls' ? ratio(r.rps, bareMtls) : '',
    ];
  });
}

const HEADER = [
  'variant',
  'framework',
  'transport',
  'auth',
  'req/s',
  'p50 ms',
  'p99 ms',
  'vs bare HTTP',
  'vs bare mTLS',
];
const RIGHT_ALIGNED = new Set([4, 5, 6, 7, 8]);

function markdownTable(rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const rule = HEADER.map((_, i) => (RIGHT_ALIGNED.has(i) ? '---:' : '---'));
  return [line(HEADER), line(rule), ...rows.map(line)].join('\n');
}

function consoleTable(rows: string[][]): string {
  const all = [HEADER, ...rows];
  const widths = HEADER.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => (RIGHT_ALIGNED.has(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ');
  return [fmt(HEADER), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n');
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

function markdownReport(results: Measurement[]): string {
  const env = environment();
  return `# Benchmarks

<!-- Generated by \`pnpm bench\` (bench/src/run.ts). Do not edit by hand: re-run it. -->

- Date: ${env.date}
- Node: ${env.node}
- CPU: ${env.cpu} (${env.cores} logical cores)
- Load: autocannon, ${CONNECTIONS} connections, ${DURATION_SEC} s per variant after a ${WARMUP_SEC} s warm-up, loopback (127.0.0.1)

${markdownTable(tableRows(results))}

## How it is measured

Each variant is a separate Node process (\`bench/dist/server.js <variant>\`) that answers
\`GET ${ROUTE}\` with the same small JSON body; the load generator (autocannon, in the
orchestrator process) runs on the same machine over loopback with keep-alive connections. Before
a variant is measured, one request must answer 200 with the expected body, and a run with any
non-2xx response, connection error or timeout aborts the benchmark, so a misconfigured variant
cannot produce fast-but-wrong numbers. p50/p99 are taken from every 2xx response of the measured
run at microsecond resolution; req/s is responses divided by the run's duration. Servers run
with \`NODE_ENV=production\` and no logging.

Every authenticated variant checks the same ES256 token (signature, iss, aud, exp), whose key comes
from a JWKS on loopback (fetched once) or, for @fastify/jwt, from the PEM public key.
express-oauth2-jwt-bearer and @fastify/jwt verify only the token. The meshless variants also
evaluate an Istio \`AuthorizationPolicy\` (ALLOW, \`requestPrincipals\`); over mTLS they run
the full pipeline: SPIFFE identity from the client X.509-SVID (STRICT), the token, and a policy
requiring both the principal and the request principal. meshless caches verified tokens
(by SHA-256, with exp/nbf re-checked on each hit) and peer identities per TLS socket, so with one
token and keep-alive connections the signature is verified once, not per request, while
express-oauth2-jwt-bearer and @fastify/jwt with its defaults verify the signature on every
request; the \`fastify-jwt-cached\` row turns fast-jwt's verified-token cache on, which is the
like-for-like comparison for the cached path. The "HTTPS mTLS" baselines only do the TLS handshake with
\`requestCert\` + \`rejectUnauthorized\`; the meshless mTLS variants use \`rejectUnauthorized: false\`
as in examples/payments, so that the guard answers a missing or untrusted certificate.

"vs bare HTTP" is req/s divided by the bare framework over plain HTTP; "vs bare mTLS" divides the
mTLS variants by the bare framework over HTTPS mTLS. Load generator and server share the machine:
on a small shared machine (e.g. 2 cores) absolute numbers are noisy from run to run; compare the
ratios within one run.
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
    for (const variant of variants) {
      process.stdout.write(`  ${variant.name.padEnd(28)}`);
      const m = await measure(variant, setup);
      results.push(m);
      console.log(
        `${Math.round(m.rps).toLocaleString('en-US').padStart(8)} req/s  ` +
          `p50 ${m.p50.toFixed(2)} ms  p99 ${m.p99.toFixed(2)} ms  (${m.requests} responses)`,
      );
    }
  } finally {
    await setup.close();
  }

  console.log(`\n${consoleTable(tableRows(results))}\n`);
  if (partial) {
    console.log('BENCH_VARIANTS selects a subset: docs/benchmarks.md not written.');
    return;
  }
  writeFileSync(DOCS_FILE, markdownReport(results));
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
