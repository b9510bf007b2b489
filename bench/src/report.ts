/** `pnpm bench`: the tables and the text of docs/benchmarks.md, from the measured rows. */
import { cpus } from 'node:os';
import type { IdentityMicro } from './identity-micro.js';
import type { JwtMicro } from './jwt-micro.js';
import type { PairedRatios } from './paired.js';
import type { PolicyMicro } from './policy-micro.js';
import type { TelemetryMicro } from './telemetry-micro.js';
import { bareMtlsOf, ROUTE, type VariantInfo } from './common.js';
import {
  CONNECTIONS,
  DURATION_SEC,
  PAIR_ROUNDS,
  PAIR_ROUND_SEC,
  TOKEN_POOL,
  WARMUP_SEC,
} from './settings.js';

/** One row: a variant and what its measured run(s) added up to. */
export interface Measurement {
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

export function mainTable(results: Measurement[]): Table {
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
export function joseOf(variant: VariantInfo): string | undefined {
  return variant.uniqueTokens ? `${variant.framework}-jose-uncached` : undefined;
}

/**
 * The bearer-token rows over plain HTTP side by side: the cached path (the same token on every
 * request) and the uncached path (another token each time), the uncached ones against jose
 * called directly with the same tokens.
 */
export function jwtTable(results: Measurement[]): Table {
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
export function jwtMicroText(micro: JwtMicro | undefined): string {
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
export function telemetryMicroText(micro: TelemetryMicro | undefined): string {
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
export function policyMicroText(micro: PolicyMicro | undefined): string {
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
export function identityTable(results: Measurement[]): Table {
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

export function consoleTable({ header, right, rows }: Table): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ');
  return [fmt(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n');
}

export function environment(): { date: string; node: string; cpu: string; cores: number } {
  const list = cpus();
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    node: process.version,
    cpu: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
  };
}

/** The in-process identity-stage cost, against the bare Fastify mTLS server's CPU per request. */
export function identityMicroText(
  results: Measurement[],
  micro: IdentityMicro | undefined,
): string {
  if (!micro) return '';
  const added = micro.withIdentityNs - micro.withoutIdentityNs;
  const bareCpu = results.find((r) => r.variant.name === 'fastify-https-mtls')?.serverCpuUs;
  const share =
    bareCpu !== undefined && bareCpu > 0
      ? ` That is ${((added / 1000 / bareCpu) * 100).toFixed(1)} % of the ${bareCpu.toFixed(0)} µs of server CPU a bare Fastify mTLS request takes in this run.`
      : '';
  return `**Identity stage alone, in process** (bench/src/identity-micro.ts: \`guard.check\` on one verified keep-alive TLS socket, best of 5 × 100,000): ${micro.withoutIdentityNs.toFixed(0)} ns per check without the identity stage, ${micro.withIdentityNs.toFixed(0)} ns with it, so the identity costs **${added.toFixed(0)} ns** per request on a keep-alive connection.${share}`;
}

export function markdownReport(
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
server can use more than one core. ${poolText(results)}

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
