import { watch, type FSWatcher } from 'node:fs';
import { resolvePolicies, type ResolvedPolicies } from './policy-sources.js';
import type { GuardOptions } from './options.js';

/** What one reload of the policy files did. */
export type PolicyReloadEvent =
  | { readonly ok: true; readonly changed: boolean }
  /** The new files were refused (unreadable, invalid YAML, invalid policy): the last good set stays. */
  | { readonly ok: false; readonly error: Error };

/** Hot reload of file and glob `policies` sources. */
export interface PolicyReloadOptions {
  /** Watch the files (default true when `policies` names files or globs). */
  watch?: boolean;
  /** Quiet time after a change before the files are read again. Default 200 ms. */
  debounceMs?: number;
  /**
   * Called after each reload attempt. Default: a refused reload becomes a
   * `MeshlessPolicyWarning` process warning (code `policy_reload_failed`).
   */
  onReload?: (event: PolicyReloadEvent) => void;
}

function defaultReport(event: PolicyReloadEvent): void {
  if (!event.ok)
    process.emitWarning(
      `policy reload refused, the last good policies stay: ${event.error.message}`,
      {
        type: 'MeshlessPolicyWarning',
        code: 'policy_reload_failed',
      },
    );
}

/**
 * Watches the directories of the file and glob sources; after a change (debounced) reads every
 * source again and, when the files differ, hands the new set to `apply`. A set that fails to load
 * or to `apply` is reported and the guard keeps its last good policies. Watchers never keep the
 * process alive. Returns undefined when there is nothing to watch.
 */
export function watchPolicies(
  initial: ResolvedPolicies,
  source: GuardOptions['policies'],
  linkerd: Parameters<typeof resolvePolicies>[1],
  options: PolicyReloadOptions | undefined,
  apply: (next: ResolvedPolicies) => Promise<void>,
): { close(): void } | undefined {
  if (options?.watch === false || initial.watch.length === 0) return undefined;
  const report = options?.onReload ?? defaultReport;
  const debounceMs = options?.debounceMs ?? 200;
  let fingerprint = initial.fingerprint;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;

  const reload = async (): Promise<void> => {
    let event: PolicyReloadEvent;
    try {
      const next = await resolvePolicies(source, linkerd);
      if (next.fingerprint === fingerprint) event = { ok: true, changed: false };
      else {
        await apply(next);
        fingerprint = next.fingerprint;
        event = { ok: true, changed: true };
      }
    } catch (error) {
      event = { ok: false, error: error instanceof Error ? error : new Error(String(error)) };
    }
    if (closed) return;
    try {
      report(event);
    } catch {
      // A reporter must not stop the watcher.
    }
  };
  // One reload at a time; a change during a reload schedules one more.
  const run = (): void => {
    if (closed) return;
    if (running) {
      again = true;
      return;
    }
    running = reload().finally(() => {
      running = undefined;
      if (again) {
        again = false;
        run();
      }
    });
  };
  const schedule = (): void => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(run, debounceMs);
    timer.unref();
  };

  const watchers: FSWatcher[] = [];
  const seen = new Set<string>();
  for (const { dir, recursive } of initial.watch) {
    const key = `${dir}\0${String(recursive)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    // Any event in the directory: Kubernetes swaps a ConfigMap mount through `..data`, not the
    // file name. Unchanged contents are detected by the fingerprint and cost nothing.
    const watcher = watch(dir, { persistent: false, recursive }, schedule);
    watcher.on('error', () => schedule());
    watchers.push(watcher);
  }
  return {
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}
