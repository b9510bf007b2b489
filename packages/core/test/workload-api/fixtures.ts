import { createTestCa, type Svid, type TestCa } from '@meshless/testing';
import type { SourceEvent } from '../../src/tls/sources.js';

/** Short retry delays so reconnect tests take milliseconds, not seconds. */
export const FAST_BACKOFF = { initialDelayMs: 25, maxDelayMs: 100 } as const;

export interface Pki {
  ca: TestCa;
  fed: TestCa;
  issue(path?: string, hint?: string): Promise<Svid & { hint?: string }>;
}

/** A CA with an intermediate for `td.test` and a federated CA for `fed.test`. */
export async function createPki(): Promise<Pki> {
  const ca = await createTestCa({ trustDomain: 'td.test', intermediate: true });
  const fed = await createTestCa({ trustDomain: 'fed.test' });
  return {
    ca,
    fed,
    async issue(path = '/api', hint) {
      const svid = await ca.issueSvid({
        spiffeId: `spiffe://td.test${path}`,
        dnsNames: ['localhost'],
      });
      return hint === undefined ? svid : { ...svid, hint };
    },
  };
}

/** Resolves when `predicate` holds, polling every 10 ms (rejects after `ms`). */
export async function eventually(predicate: () => boolean, ms = 5000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > ms) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Records a source's events. */
export function recordEvents(): { events: SourceEvent[]; listener: (e: SourceEvent) => void } {
  const events: SourceEvent[] = [];
  return { events, listener: (e) => events.push(e) };
}
