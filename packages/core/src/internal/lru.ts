interface LruNode<K, V> {
  key: K;
  value: V;
  /** Towards the most recently used end. */
  newer: LruNode<K, V> | undefined;
  /** Towards the least recently used end. */
  older: LruNode<K, V> | undefined;
}

/**
 * A small bounded map that evicts the least recently used entry. Not exported from the package.
 *
 * Every operation is O(1): a `Map` from key to node plus a doubly linked recency list. (A bare
 * `Map` used in insertion order is not: V8 leaves deleted entries as holes at the front of its
 * table until the next rehash, so `keys().next()` on a full, churning cache skips thousands of
 * holes per eviction — several microseconds per insert at 10,000 entries.)
 */
export class Lru<K, V> {
  readonly #max: number;
  readonly #map = new Map<K, LruNode<K, V>>();
  #newest: LruNode<K, V> | undefined;
  #oldest: LruNode<K, V> | undefined;

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError('Lru size must be an integer ≥ 1');
    this.#max = max;
  }

  get(key: K): V | undefined {
    const node = this.#map.get(key);
    if (node === undefined) return undefined;
    this.#touch(node);
    return node.value;
  }

  /** True when `key` is cached; does not count as a use. */
  has(key: K): boolean {
    return this.#map.has(key);
  }

  set(key: K, value: V): void {
    const existing = this.#map.get(key);
    if (existing !== undefined) {
      existing.value = value;
      this.#touch(existing);
      return;
    }
    const node: LruNode<K, V> = { key, value, newer: undefined, older: this.#newest };
    if (this.#newest) this.#newest.newer = node;
    this.#newest = node;
    this.#oldest ??= node;
    this.#map.set(key, node);
    if (this.#map.size > this.#max && this.#oldest) this.#remove(this.#oldest);
  }

  delete(key: K): void {
    const node = this.#map.get(key);
    if (node !== undefined) this.#remove(node);
  }

  clear(): void {
    this.#map.clear();
    this.#newest = undefined;
    this.#oldest = undefined;
  }

  get size(): number {
    return this.#map.size;
  }

  /** Moves `node` to the most recently used end. */
  #touch(node: LruNode<K, V>): void {
    if (node === this.#newest) return;
    this.#unlink(node);
    node.newer = undefined;
    node.older = this.#newest;
    if (this.#newest) this.#newest.newer = node;
    this.#newest = node;
    this.#oldest ??= node;
  }

  #remove(node: LruNode<K, V>): void {
    this.#map.delete(node.key);
    this.#unlink(node);
  }

  #unlink(node: LruNode<K, V>): void {
    if (node.newer) node.newer.older = node.older;
    else this.#newest = node.older;
    if (node.older) node.older.newer = node.newer;
    else this.#oldest = node.newer;
    node.newer = undefined;
    node.older = undefined;
  }
}
