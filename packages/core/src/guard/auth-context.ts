import type { JWTPayload } from 'jose';
import type { Decision } from './decision.js';

/**
 * What the application sees on an allowed request (`req.auth` in Express, `request.auth` in
 * Fastify): who called, and the decision that let the call through.
 */
export interface AuthContext {
  /** Peer SPIFFE ID from the verified client X.509-SVID, e.g. `spiffe://example.org/ns/payments/sa/checkout`. */
  principal?: string;
  /** `iss/sub` of the verified bearer token. */
  requestPrincipal?: string;
  /** Verified token claims. */
  claims?: JWTPayload;
  /** The full decision (policy and rule that allowed, audit and dry-run marks). */
  decision: Decision;
}

/** Builds the {@link AuthContext} of an allowed decision. */
export function authContextOf(decision: Decision): AuthContext {
  const auth: AuthContext = { decision };
  if (decision.principal !== undefined) auth.principal = decision.principal;
  if (decision.requestPrincipal !== undefined) auth.requestPrincipal = decision.requestPrincipal;
  if (decision.claims !== undefined) auth.claims = decision.claims;
  return auth;
}
