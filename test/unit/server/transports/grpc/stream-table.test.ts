import { describe, expect, it } from 'vitest';
import { StreamTable } from '../../../../../src/server/transports/grpc/stream-table.js';

/** A small deterministic generator, so a failing sequence can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const contents = <V>(map: { forEach(cb: (v: V, k: number) => void): void }): [number, V][] => {
  const out: [number, V][] = [];
  map.forEach((v, k) => out.push([k, v]));
  return out.sort((a, b) => a[0] - b[0]);
};

describe('StreamTable', () => {
  it.each([1, 2, 3, 4, 5])('behaves like a Map over random sets and deletes (seed %i)', (seed) => {
    const next = random(seed);
    const table = new StreamTable<string>(8);
    const map = new Map<number, string>();
    // Ids as HTTP/2 hands them out (odd, rising) with a window of open streams, plus collisions.
    let nextId = 1;
    for (let step = 0; step < 5000; step++) {
      const roll = next();
      if (roll < 0.45 || map.size === 0) {
        const id = roll < 0.05 ? 2 * Math.floor(next() * 200) + 2 : nextId;
        if (id === nextId) nextId += 2;
        table.set(id, `s${id}@${step}`);
        map.set(id, `s${id}@${step}`);
      } else {
        const keys = [...map.keys()];
        const id = next() < 0.1 ? nextId + 2 : keys[Math.floor(next() * keys.length)]!;
        expect(table.delete(id)).toBe(map.delete(id));
      }
      expect(table.size).toBe(map.size);
      if (step % 97 === 0) {
        expect(contents(table)).toEqual(contents(map));
        for (const id of map.keys()) expect(table.get(id)).toBe(map.get(id));
        expect(table.has(nextId)).toBe(false);
      }
    }
    expect(contents(table)).toEqual(contents(map));
  });

  it('keeps every entry findable when deletes shift entries across the end of the array', () => {
    const table = new StreamTable<number>(8);
    // Ids 15, 31, 47 share home slot 7 of 8: two of them wrap around to slots 0 and 1.
    for (const id of [15, 31, 47, 1]) table.set(id, id);
    expect(table.delete(15)).toBe(true);
    expect([table.get(31), table.get(47), table.get(1), table.get(15)]).toEqual([31, 47, 1, undefined]);
    expect(table.delete(31)).toBe(true);
    expect([table.get(47), table.get(1)]).toEqual([47, 1]);
    expect(table.size).toBe(2);
  });

  it('lets forEach callbacks delete entries, as Node does when it destroys every stream', () => {
    const table = new StreamTable<string>(8);
    for (let id = 1; id <= 41; id += 2) table.set(id, `s${id}`);
    const visited: number[] = [];
    table.forEach((_stream, id) => {
      visited.push(id);
      table.delete(id);
      table.delete(id + 2); // a neighbour goes too: it must not be visited
    });
    expect(table.size).toBe(0);
    expect(visited.sort((a, b) => a - b)).toEqual([1, 5, 9, 13, 17, 21, 25, 29, 33, 37, 41]);
  });

  it('keeps ids that are not positive integers too, in a side map', () => {
    const table = new StreamTable<string>();
    table.set(0, 'zero').set(-3, 'negative').set(1.5, 'fraction').set(7, 'seven');
    expect([table.get(0), table.get(-3), table.get(1.5), table.get(7), table.size]).toEqual(['zero', 'negative', 'fraction', 'seven', 4]);
    expect([...table.keys()].sort((a, b) => a - b)).toEqual([-3, 0, 1.5, 7]);
    expect([...table.values()].sort()).toEqual(['fraction', 'negative', 'seven', 'zero']);
    expect(table.delete(-3)).toBe(true);
    table.clear();
    expect([table.size, table.get(7), table.get(0)]).toEqual([0, undefined, undefined]);
  });

  it('iterates as [id, stream] pairs', () => {
    const table = new StreamTable<string>();
    table.set(3, 'a').set(5, 'b');
    expect([...table].sort()).toEqual([
      [3, 'a'],
      [5, 'b'],
    ]);
    expect([...table.entries()]).toHaveLength(2);
  });
});
