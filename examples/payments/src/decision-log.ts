import type { Decision, RequestFacts } from '@meshless/core';

/** One readable line per decision: service, verdict, status, route, caller, reason, policy. */
export function formatDecision(service: string, decision: Decision, facts: RequestFacts): string {
  const verdict = decision.allow ? 'ALLOW' : 'DENY ';
  const caller = decision.principal ?? '(no client certificate identity)';
  const policy = decision.policy ? `${decision.policy}#rule${decision.rule ?? 0}` : '(default)';
  const token = decision.requestPrincipal ? ' token=verified' : '';
  return (
    `[${service.padEnd(17)}] ${verdict} ${decision.status} ${facts.method} ${facts.path}\n` +
    `      caller=${caller}${token} reason=${decision.reason} policy=${policy}`
  );
}

/** Prints decision lines of a service through `console.log`. */
export function logDecisions(service: string): (decision: Decision, facts: RequestFacts) => void {
  return (decision, facts) => console.log(formatDecision(service, decision, facts));
}
