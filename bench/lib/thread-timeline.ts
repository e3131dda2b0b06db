import type { SwitchEvent, TraceEvent } from './perf-trace.js';

/**
 * What one thread was doing over time, from the scheduler's switch and wake-up events (pure).
 * Off-CPU time is split by why the thread left the CPU: still runnable (preempted, and by whom),
 * or asleep, told apart by the kernel frames of the switch (epoll: idle, waiting for I/O; futex:
 * blocked on a lock or on other threads, e.g. V8's GC helpers). From its wake-up until it runs,
 * a sleeper is runnable and waits for a CPU.
 */
export type ThreadState = 'running' | 'preempted' | 'woken, waiting for a CPU' | 'blocked (futex)' | 'waiting for I/O (epoll)' | 'asleep (other)';

export interface StateInterval {
  readonly start: number;
  readonly end: number;
  readonly state: ThreadState;
  /** For `preempted`: the task that took the CPU, e.g. "grpc-load (nice 0)". */
  readonly takenBy?: string;
}

export function threadTimeline(events: readonly TraceEvent[], tid: number): StateInterval[] {
  const intervals: StateInterval[] = [];
  let open: { start: number; state: ThreadState; takenBy?: string; wokenAt?: number } | undefined;
  for (const event of events) {
    if (event.kind === 'wakeup') {
      if (event.tid === tid && open && open.state !== 'running' && open.state !== 'preempted') open.wokenAt ??= event.time;
      continue;
    }
    if (event.kind !== 'switch') continue;
    if (event.prev.tid === tid) {
      if (open?.state === 'running') intervals.push({ start: open.start, end: event.time, state: 'running' });
      const state = offCpuState(event);
      open = { start: event.time, state, ...(state === 'preempted' ? { takenBy: describeTask(event.next) } : {}) };
    } else if (event.next.tid === tid) {
      if (open && open.state !== 'running') intervals.push(...closeOffCpu(open, event.time));
      open = { start: event.time, state: 'running' };
    }
  }
  return intervals;
}

function closeOffCpu(open: { start: number; state: ThreadState; takenBy?: string; wokenAt?: number }, end: number): StateInterval[] {
  if (open.state === 'preempted') return [{ start: open.start, end, state: 'preempted', takenBy: open.takenBy ?? '?' }];
  if (open.wokenAt === undefined) return [{ start: open.start, end, state: open.state }];
  return [
    { start: open.start, end: open.wokenAt, state: open.state },
    { start: open.wokenAt, end, state: 'woken, waiting for a CPU' },
  ];
}

function offCpuState(event: SwitchEvent): ThreadState {
  if (event.prevState.startsWith('R')) return 'preempted';
  if (event.stack.some((frame) => frame.includes('epoll'))) return 'waiting for I/O (epoll)';
  if (event.stack.some((frame) => frame.includes('futex'))) return 'blocked (futex)';
  return 'asleep (other)';
}

function describeTask(task: SwitchEvent['next']): string {
  return `${task.comm} (nice ${task.prio - 120})`;
}

/** Milliseconds of [from, to] spent in each state; preemptions are keyed "preempted by <task>". */
export function timeByState(intervals: readonly StateInterval[], from: number, to: number, into = new Map<string, number>()): Map<string, number> {
  for (const interval of intervals) {
    const overlap = Math.min(to, interval.end) - Math.max(from, interval.start);
    if (overlap <= 0) continue;
    const key = interval.state === 'preempted' ? `preempted by ${interval.takenBy ?? '?'}` : interval.state;
    into.set(key, (into.get(key) ?? 0) + overlap * 1000);
  }
  return into;
}
