import { describe, expect, it } from 'vitest';
import type { SwitchEvent, TaskRef, WakeupEvent } from '../../../bench/lib/perf-trace.js';
import { threadTimeline, timeByState } from '../../../bench/lib/thread-timeline.js';

const MAIN: TaskRef = { comm: 'node', tid: 100, prio: 120 };
const LOAD: TaskRef = { comm: 'grpc-load', tid: 200, prio: 120 };
const HELPER: TaskRef = { comm: 'node', tid: 101, prio: 130 };
const wake = (time: number, tid: number): WakeupEvent => ({ kind: 'wakeup', time, tid });
const sw = (time: number, prev: TaskRef, prevState: string, next: TaskRef, stack: string[] = []): SwitchEvent => ({ kind: 'switch', time, prev, prevState, next, stack });

describe('threadTimeline', () => {
  // main runs 0-1, preempted by the load generator 1-3, runs 3-4, sleeps in epoll 4-5.5, is
  // woken at 5.5 but waits for a CPU until 6, runs 6-7, blocks on a futex 7-8, runs 8-9.
  const events = [
    sw(0, HELPER, 'S', MAIN),
    sw(1, MAIN, 'R', LOAD),
    wake(2, HELPER.tid),
    sw(3, LOAD, 'S', MAIN),
    sw(4, MAIN, 'S', HELPER, ['__schedule', 'do_epoll_wait']),
    sw(5, HELPER, 'S', LOAD),
    wake(5.5, MAIN.tid),
    wake(5.8, MAIN.tid), // a second wake-up of a runnable task changes nothing
    sw(6, LOAD, 'S', MAIN),
    sw(7, MAIN, 'S', HELPER, ['__schedule', 'futex_wait_queue']),
    sw(8, HELPER, 'S', MAIN),
    sw(9, MAIN, 'S', HELPER, ['__schedule', 'do_nanosleep']),
  ];

  it('splits a thread into running and off-CPU intervals, each with its reason', () => {
    expect(threadTimeline(events, MAIN.tid)).toEqual([
      { start: 0, end: 1, state: 'running' },
      { start: 1, end: 3, state: 'preempted', takenBy: 'grpc-load (nice 0)' },
      { start: 3, end: 4, state: 'running' },
      { start: 4, end: 5.5, state: 'waiting for I/O (epoll)' },
      { start: 5.5, end: 6, state: 'woken, waiting for a CPU' },
      { start: 6, end: 7, state: 'running' },
      { start: 7, end: 8, state: 'blocked (futex)' },
      { start: 8, end: 9, state: 'running' },
    ]);
  });

  it('adds up the time of a window by state, in milliseconds, counting only the overlap', () => {
    const byState = timeByState(threadTimeline(events, MAIN.tid), 0.5, 7.5);
    expect(Object.fromEntries(byState)).toEqual({
      running: 2500,
      'preempted by grpc-load (nice 0)': 2000,
      'waiting for I/O (epoll)': 1500,
      'woken, waiting for a CPU': 500,
      'blocked (futex)': 500,
    });
  });

  it('adds to a given map, so several windows can be summed', () => {
    const timeline = threadTimeline(events, MAIN.tid);
    const sum = timeByState(timeline, 3, 4, timeByState(timeline, 0, 1));
    expect(sum.get('running')).toBe(2000);
  });
});
