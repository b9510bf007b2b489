/**
 * `@meshless/fastify`: meshless as a Fastify plugin.
 *
 * @packageDocumentation
 */
import {
  applyRequestHeaders,
  authContextOf,
  createGuard,
  denialBody,
  factsFromIncomingMessage,
  internalErrorDecision,
  stripConsumedHeaders,
  normalizeRequestPath,
  type AuthContext,
  type Decision,
  type Guard,
  type GuardOptions,
  type PathNormalization,
} from '@meshless/core';
import type { FastifyPluginAsync, FastifyServerOptions } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by meshless on every request it lets through; `null` before. */
    auth: AuthContext | null;
  }
}

function isGuard(value: GuardOptions | Guard): value is Guard {
  return typeof (value as Partial<Guard>).check === 'function';
}

/** Plugin options: guard options, or a guard already built with `createGuard`. */
export type MeshlessFastifyOptions = GuardOptions | Guard;

const plugin: FastifyPluginAsync<MeshlessFastifyOptions> = async (fastify, options) => {
  const guard = isGuard(options) ? options : await createGuard(options);
  fastify.decorateRequest('auth', null);
  fastify.addHook('onRequest', async (request, reply) => {
    let decision: Decision;
    try {
      // Fastify routes before hooks run: the guard refuses a routed URL that is not the normalized
      // one (use `rewriteUrl: meshlessRewriteUrl()` so Fastify routes on the normalized path).
      const facts = factsFromIncomingMessage(request.raw, request.originalUrl);
      facts.routedUrl = request.url;
      const route = request.routeOptions.url; // undefined when no route matched (404)
      if (route !== undefined) facts.route = route;
      decision = await guard.check(facts);
    } catch {
      decision = internalErrorDecision(); // fail closed: 503, never Fastify's 500
    }
    if (!decision.allow) {
      if (decision.headers) void reply.headers(decision.headers);
      return reply.code(decision.status).send(denialBody(decision));
    }
    stripConsumedHeaders(request.raw); // e.g. x-forwarded-client-cert: the identity is in request.auth
    applyRequestHeaders(request.raw, decision.requestHeaders); // token removal, RequestAuthentication outputs
    if (decision.url !== undefined && decision.url !== request.url) {
      // The token was removed from the query (forwardOriginalToken: false): Fastify parsed the
      // query while routing, so drop it from `request.query` as well.
      request.raw.url = decision.url;
      const kept = new URLSearchParams(decision.url.split('?')[1] ?? '');
      const query = request.query as Record<string, unknown> | null;
      if (query && typeof query === 'object')
        for (const key of Object.keys(query)) if (!kept.has(key)) delete query[key];
    }
    request.auth = authContextOf(decision);
    return undefined;
  });
};

/**
 * The meshless Fastify plugin: peer identity, token and authorization on every request (an
 * `onRequest` hook). Allowed requests get `request.auth`; denied ones are answered with
 * 400/401/403/503 and a JSON body `{ error, reason }` (`WWW-Authenticate` on 401), never 500.
 *
 * @example
 * ```ts
 * const app = Fastify({ rewriteUrl: meshlessRewriteUrl() });
 * await app.register(meshless, { workload: { namespace: 'payments', trustDomain: 'example.org' },
 *                                trustBundles: { 'example.org': rootPem }, policies: './policies.yaml' });
 * app.post('/charge', async (request) => ({ caller: request.auth?.principal }));
 * ```
 */
export const meshless = fp(plugin, { fastify: '5.x', name: '@meshless/fastify' });
export default meshless;

/**
 * A Fastify `rewriteUrl` that routes on the path meshless authorizes (dot segments removed,
 * slashes merged, escaped slashes decoded, fragment dropped). Pass the same `pathNormalization`
 * as to the guard.
 */
export function meshlessRewriteUrl(
  mode?: PathNormalization,
): NonNullable<FastifyServerOptions['rewriteUrl']> {
  return (req) => {
    const raw = req.url ?? '/';
    const n = normalizeRequestPath(raw, mode);
    if (!n.ok) return raw; // the guard answers 400
    return n.query === undefined ? n.path : `${n.path}?${n.query}`;
  };
}

export type { AuthContext, Decision, Guard, GuardOptions } from '@meshless/core';
export { createGuard } from '@meshless/core';
