/**
 * A map from HTTP/2 stream id to stream with the Map methods Node's HTTP/2 session uses on its
 * stream registry (get, set, has, delete, size, forEach, iteration, clear).
 *
 * Why not a Map: V8 rehashes a Map into a new table once deletions fill the old one, and the old
 * table keeps pointing at its entries and at the new table. A session lives long, so after the
 * first full GC its table is in the old generation, and from then on every replaced table is
 * dead old-generation memory that still references the streams that were open when it was
 * replaced. The young-generation collector cannot see that those tables are dead, so each of
 * those streams, with its whole call, survives into the old generation: ~850 KB per scavenge
 * at 9k calls/s, a full GC every second (docs/decisions/0007-http2-stream-table.md). This table
 * rehashes in place, and when it grows it empties the array it drops, so a dead array never
 * holds a stream.
 *
 * Open addressing with linear probing and backward-shift deletion (no tombstones). Stream ids
 * are positive integers; any other key (never seen from Node) goes to a plain Map.
 */
export class StreamTable<V> {
  private slotIds: number[];
  private slotValues: (V | undefined)[];
  private mask: number;
  private count = 0;
  private readonly others = new Map<unknown, V>();

  constructor(initialCapacity = 64) {
    const capacity = 2 ** Math.ceil(Math.log2(Math.max(8, initialCapacity)));
    this.slotIds = new Array<number>(capacity).fill(0);
    this.slotValues = new Array<V | undefined>(capacity).fill(undefined);
    this.mask = capacity - 1;
  }

  get size(): number {
    return this.count + this.others.size;
  }

  get(id: number): V | undefined {
    if (!isStreamId(id)) return this.others.get(id);
    const slot = this.find(id);
    return slot < 0 ? undefined : this.slotValues[slot];
  }

  has(id: number): boolean {
    return isStreamId(id) ? this.find(id) >= 0 : this.others.has(id);
  }

  set(id: number, value: V): this {
    if (!isStreamId(id)) {
      this.others.set(id, value);
      return this;
    }
    let slot = this.home(id);
    while (this.slotIds[slot] !== 0 && this.slotIds[slot] !== id) slot = (slot + 1) & this.mask;
    if (this.slotIds[slot] === 0) {
      this.slotIds[slot] = id;
      this.count++;
    }
    this.slotValues[slot] = value;
    if (this.count * 2 > this.mask + 1) this.resize((this.mask + 1) * 2);
    return this;
  }

  delete(id: number): boolean {
    if (!isStreamId(id)) return this.others.delete(id);
    let hole = this.find(id);
    if (hole < 0) return false;
    // Move later entries of the same probe run back into the hole, so lookups never cross an empty slot.
    for (let next = (hole + 1) & this.mask; this.slotIds[next] !== 0; next = (next + 1) & this.mask) {
      const home = this.home(this.slotIds[next]!);
      const staysPut = hole <= next ? hole < home && home <= next : hole < home || home <= next;
      if (staysPut) continue;
      this.slotIds[hole] = this.slotIds[next]!;
      this.slotValues[hole] = this.slotValues[next];
      hole = next;
    }
    this.slotIds[hole] = 0;
    this.slotValues[hole] = undefined;
    this.count--;
    return true;
  }

  clear(): void {
    this.slotIds.fill(0);
    this.slotValues.fill(undefined);
    this.count = 0;
    this.others.clear();
  }

  /**
   * Visits a snapshot of the entries, skipping those deleted meanwhile: Node destroys streams
   * from inside forEach, and each destroy deletes its own entry (and may move others).
   */
  forEach(callback: (value: V, id: number, table: this) => void): void {
    for (const [id, value] of this.snapshot()) if (this.get(id) === value) callback(value, id, this);
  }

  entries(): IterableIterator<[number, V]> {
    return this.snapshot()[Symbol.iterator]();
  }

  keys(): IterableIterator<number> {
    const ids = this.snapshot().map(([id]) => id);
    return ids[Symbol.iterator]();
  }

  values(): IterableIterator<V> {
    const values = this.snapshot().map(([, value]) => value);
    return values[Symbol.iterator]();
  }

  [Symbol.iterator](): IterableIterator<[number, V]> {
    return this.entries();
  }

  private snapshot(): [number, V][] {
    const out: [number, V][] = [];
    for (let slot = 0; slot <= this.mask; slot++) if (this.slotIds[slot] !== 0) out.push([this.slotIds[slot]!, this.slotValues[slot]!]);
    for (const [id, value] of this.others) out.push([id as number, value]);
    return out;
  }

  private home(id: number): number {
    // Client streams are odd and server streams even: dropping the parity bit spreads both.
    return Math.floor(id / 2) & this.mask;
  }

  private find(id: number): number {
    for (let slot = this.home(id); this.slotIds[slot] !== 0; slot = (slot + 1) & this.mask) if (this.slotIds[slot] === id) return slot;
    return -1;
  }

  private resize(capacity: number): void {
    const ids = this.slotIds;
    const values = this.slotValues;
    this.slotIds = new Array<number>(capacity).fill(0);
    this.slotValues = new Array<V | undefined>(capacity).fill(undefined);
    this.mask = capacity - 1;
    this.count = 0;
    for (let slot = 0; slot < ids.length; slot++) if (ids[slot] !== 0) this.set(ids[slot]!, values[slot]!);
    // The dropped array may already be old-generation garbage: it must not keep streams alive.
    values.fill(undefined);
  }
}

function isStreamId(key: unknown): key is number {
  return typeof key === 'number' && Number.isSafeInteger(key) && key > 0;
}
