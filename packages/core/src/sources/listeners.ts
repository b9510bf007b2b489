import type { SourceEvent } from '../tls/sources.js';

/** A listener list for a source's `subscribe`. @internal */
export interface Listeners {
  subscribe(listener: (event: SourceEvent) => void): () => void;
  emit(event: SourceEvent): void;
  clear(): void;
}

/**
 * Creates a listener list. A listener that throws affects neither the source nor the other
 * listeners; unsubscribing twice is harmless; a listener added during `emit` first hears the next
 * event.
 *
 * @internal
 * @example
 * ```ts
 * const listeners = createListeners();
 * const off = listeners.subscribe((e) => console.log(e.type));
 * listeners.emit({ type: 'updated' });
 * off();
 * ```
 */
export function createListeners(): Listeners {
  const set = new Set<(event: SourceEvent) => void>();
  return {
    subscribe(listener) {
      // A wrapper per call, so the same function subscribed twice is called twice and each
      // unsubscribe removes only its own registration.
      const entry = (event: SourceEvent): void => listener(event);
      set.add(entry);
      return () => {
        set.delete(entry);
      };
    },
    emit(event) {
      for (const listener of [...set]) {
        try {
          listener(event);
        } catch {
          // A subscriber's bug must not break rotation or the other subscribers.
        }
      }
    },
    clear() {
      set.clear();
    },
  };
}
