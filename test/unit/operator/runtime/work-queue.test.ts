import { describe, expect, it } from 'vitest';
import { WorkQueue, type QueueTimers } from '../../../../src/operator/runtime/work-queue.js';

/** Timers driven by hand: `advance` fires what is due. */
class ManualTimers implements QueueTimers {
  now = 0;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();
  private next = 0;
  setTimeout(fn: () => void, ms: number): unknown {
    this.next += 1;
    this.pending.set(this.next, { at: this.now + ms, fn });
    return this.next;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  advance(ms: number): void {
    this.now += ms;
    for (const [id, t] of [...this.pending]) {
      if (t.at <= this.now) {
        this.pending.delete(id);
        t.fn();
      }
    }
  }
}

describe('WorkQueue', () => {
  it('holds a key once however often it is added', async () => {
    const q = new WorkQueue(new ManualTimers());
    q.add('ns/a');
    q.add('ns/b');
    q.add('ns/a');
    expect(q.length).toBe(2);
    expect(await q.get()).toBe('ns/a');
    expect(await q.get()).toBe('ns/b');
  });

  it('processes a key re-added during processing once more, after done', async () => {
    const q = new WorkQueue(new ManualTimers());
    q.add('ns/a');
    const key = await q.get();
    q.add('ns/a');
    q.add('ns/a');
    expect(q.length).toBe(0);
    q.done(key ?? '');
    expect(q.length).toBe(1);
    expect(await q.get()).toBe('ns/a');
  });

  it('backs off exponentially per key until forgotten, capped', () => {
    const timers = new ManualTimers();
    const q = new WorkQueue(timers, { baseDelayMs: 100, maxDelayMs: 500 });
    const delays: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      delays.push(q.addRateLimited('ns/a'));
      timers.advance(1000);
    }
    expect(delays).toEqual([100, 200, 400, 500, 500]);
    q.forget('ns/a');
    expect(q.addRateLimited('ns/a')).toBe(100);
  });

  it('adds a rate-limited key only when its delay has passed', () => {
    const timers = new ManualTimers();
    const q = new WorkQueue(timers, { baseDelayMs: 100 });
    q.addRateLimited('ns/a');
    timers.advance(99);
    expect(q.length).toBe(0);
    timers.advance(1);
    expect(q.length).toBe(1);
  });

  it('brings a waiting key back at the sooner of two delays', () => {
    const timers = new ManualTimers();
    const q = new WorkQueue(timers, { baseDelayMs: 60_000, now: () => timers.now });
    q.addRateLimited('ns/a'); // an error: back in 60 s
    timers.advance(1_000);
    q.addAfter('ns/a', 15_000); // then a success asks for a poll in 15 s
    q.addAfter('ns/a', 30_000); // a later time changes nothing
    timers.advance(14_999);
    expect(q.length).toBe(0);
    timers.advance(1);
    expect(q.length).toBe(1);
    timers.advance(60_000);
    expect(q.length).toBe(1);
  });

  it('hands a waiting worker the next key, and undefined after shutdown', async () => {
    const q = new WorkQueue(new ManualTimers());
    const waiting = q.get();
    q.add('ns/a');
    expect(await waiting).toBe('ns/a');
    const idle = q.get();
    q.shutDown();
    expect(await idle).toBeUndefined();
    q.add('ns/b');
    expect(await q.get()).toBeUndefined();
  });
});
