import { watch, type FSWatcher } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { readFileContents, sameContents, type FileContent } from './file-snapshot.js';

/** Options of {@link watchFiles}. @internal */
export interface WatchFilesOptions {
  readonly files: readonly string[];
  /** What the caller already loaded; only a different, settled snapshot is reported. */
  readonly initial: readonly FileContent[];
  readonly pollIntervalMs: number;
  readonly debounceMs: number;
  /** Use `fs.watch` on the files' directories in addition to polling. */
  readonly watch: boolean;
  /** Called with a settled snapshot that differs from the previous one. */
  readonly onChange: (contents: readonly FileContent[]) => void;
}

/** Re-reads before a changed snapshot counts as settled (a writer still busy keeps changing it). */
const MAX_SETTLE_ROUNDS = 10;

/**
 * Watches files for content changes: `fs.watch` on each file's directory (this is what sees the
 * Kubernetes `..data` symlink swap, which renames an entry of the directory) plus polling (for
 * file systems and platforms where `fs.watch` misses events). A change is reported only once the
 * files read the same twice, `debounceMs` apart, so a writer still writing, or a symlink swap
 * between reading the certificate and the key, is never reported half-done. Timers and watchers
 * do not keep the process alive.
 *
 * @internal
 * @example
 * ```ts
 * const w = watchFiles({ files, initial, pollIntervalMs: 1000, debounceMs: 100, watch: true, onChange });
 * w.close();
 * ```
 */
export function watchFiles(options: WatchFilesOptions): { close(): void } {
  const { files, pollIntervalMs, debounceMs, onChange } = options;
  let last = options.initial;
  let closed = false;
  let running = false;
  let again = false;
  let debounceTimer: NodeJS.Timeout | undefined;
  const watchers: FSWatcher[] = [];

  const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms).unref());

  async function check(): Promise<void> {
    if (closed) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      let snapshot = await readFileContents(files);
      if (closed || sameContents(snapshot, last)) return;
      for (let round = 0; round < MAX_SETTLE_ROUNDS; round++) {
        await sleep(debounceMs);
        if (closed) return;
        const next = await readFileContents(files);
        if (closed) return;
        const settled = sameContents(next, snapshot);
        snapshot = next;
        if (settled) break;
      }
      if (sameContents(snapshot, last)) return;
      last = snapshot;
      try {
        onChange(snapshot);
      } catch {
        // The caller reports its own failures; a throw must not become an unhandled rejection.
      }
    } finally {
      running = false;
      if (again && !closed) {
        again = false;
        void check();
      }
    }
  }

  const trigger = (): void => {
    if (closed) return;
    clearTimeout(debounceTimer);
    debounceTimer = setTimeout(() => void check(), debounceMs).unref();
  };

  if (options.watch) {
    for (const dir of new Set(files.map((f) => dirname(resolve(f))))) {
      try {
        const watcher = watch(dir, { persistent: false }, trigger);
        // E.g. the directory was removed: polling still covers it.
        watcher.on('error', () => watcher.close());
        watchers.push(watcher);
      } catch {
        // fs.watch unsupported here, or out of inotify watches: polling still covers it.
      }
    }
  }
  const poll = setInterval(() => void check(), pollIntervalMs).unref();

  return {
    close() {
      closed = true;
      clearInterval(poll);
      clearTimeout(debounceTimer);
      for (const watcher of watchers) watcher.close();
    },
  };
}
