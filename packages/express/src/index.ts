/**
 * `@meshless/express`: meshless as one Express middleware. Mount it first, at the application
 * level: it rewrites `req.url` to the normalized path so routing agrees with the decision.
 *
 * @packageDocumentation
 */
import {
  applyRequestHeaders,
  authContextOf,
  denialBody,
  factsFromIncomingMessage,
  internalErrorDecision,
  stripConsumedHeaders,
  toPendingGuard,
  type AuthContext,
  type Decision,
  type Guard,
  type GuardOptions,
} from '@meshless/core';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by meshless on every request it lets through. */
      auth?: AuthContext;
    }
  }
}

/** The middleware, with a promise that settles when its guard is built. */
export type MeshlessMiddleware = RequestHandler & {
  /** Rejects with the configuration error when the guard cannot be built (requests then get 503). */
  readonly ready: Promise<Guard>;
};

/**
 * Creates the meshless Express middleware: peer identity, token and authorization on every request.
 * Allowed requests get `req.auth`; denied ones are answered with 400/401/403/503 and a JSON body
 * `{ error, reason }` (`WWW-Authenticate` on 401), never 500.
 *
 * @example
 * ```ts
 * const app = express();
 * app.use(meshless({ workload: { namespace: 'payments', trustDomain: 'example.org' },
 *                    trustBundles: { 'example.org': rootPem }, policies: './policies.yaml' }));
 * app.post('/charge', (req, res) => res.json({ caller: req.auth?.principal }));
 * ```
 */
export function meshless(options: GuardOptions | Guard): MeshlessMiddleware {
  const guard = toPendingGuard(options);
  guard.ready.catch(() => undefined); // surfaced through `ready` and as 503s, never as an unhandled rejection
  // Named: OpenTelemetry's Express instrumentation calls its span `middleware - meshlessGuard`.
  const meshlessGuard = (req: Request, res: Response, next: NextFunction): void => {
    const respond = (decision: Decision): void => {
      if (decision.allow) {
        if (decision.url !== undefined && req.url === req.originalUrl) req.url = decision.url;
        stripConsumedHeaders(req); // e.g. x-forwarded-client-cert: the identity is in req.auth
        applyRequestHeaders(req, decision.requestHeaders); // token removal, RequestAuthentication outputs
        req.auth = authContextOf(decision);
        next();
        return;
      }
      if (decision.headers) res.set(decision.headers);
      res.status(decision.status).json(denialBody(decision));
    };
    let pending: Promise<Decision>;
    try {
      const facts = factsFromIncomingMessage(req, req.originalUrl);
      // Mounted below a prefix, req.url cannot be rewritten: the router sees the raw target.
      if (req.url !== req.originalUrl) facts.routedUrl = req.originalUrl;
      pending = guard.check(facts);
    } catch {
      // Whatever throws while reading the request is a 503 denial, never a 500.
      respond(internalErrorDecision());
      return;
    }
    // One hop from the decision to the response; a check that rejects is a 503 denial.
    pending.then(respond, () => respond(internalErrorDecision())).catch(next);
  };
  return Object.assign(meshlessGuard, { ready: guard.ready });
}

export type { AuthContext, Decision, Guard, GuardOptions } from '@meshless/core';
export { createGuard } from '@meshless/core';
