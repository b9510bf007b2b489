/**
 * Internal: loads `oidc-provider` without its "Unsupported runtime" warning on Node 20.
 *
 * oidc-provider 9 prints `oidc-provider WARNING: Unsupported runtime. Use Node.js v22.x LTS...`
 * through `console.warn` while its entry module evaluates. That exact message is dropped during
 * the import; every other warning passes through, and `console.warn` is restored afterwards.
 *
 * @internal
 */
import type * as OidcProviderModule from 'oidc-provider';

const UNSUPPORTED_RUNTIME = 'oidc-provider WARNING: Unsupported runtime';

async function importQuietly(): Promise<typeof OidcProviderModule> {
  const original = console.warn;
  console.warn = (...args: unknown[]): void => {
    if (typeof args[0] === 'string' && args[0].includes(UNSUPPORTED_RUNTIME)) return;
    original.apply(console, args);
  };
  try {
    return await import('oidc-provider');
  } finally {
    console.warn = original;
  }
}

const oidcProvider = await importQuietly();

/** The oidc-provider `Provider` class (default export). @internal */
export const Provider = oidcProvider.default;
/** oidc-provider's error classes (named export; `Provider.errors` is undefined). @internal */
export const errors = oidcProvider.errors;
