/**
 * Reads the text of `perf script -F tid,time,event,trace,sym` for two tracepoints:
 * sched:sched_switch (with kernel call chains, when recorded with -g) and tcp:tcp_probe.
 * Pure: the status-tail diagnostic records, this only parses.
 */

export interface SwitchEvent {
  readonly kind: 'switch';
  /** Seconds on perf's clock (the diagnostic records with -k mono). */
  readonly time: number;
  readonly prev: TaskRef;
  /** The kernel's letter for the task switched out: R (still runnable: preempted), S, D, ... */
  readonly prevState: string;
  readonly next: TaskRef;
  /** Kernel frames of the switching-out task, innermost first (empty without -g). */
  readonly stack: readonly string[];
}

export interface TaskRef {
  readonly comm: string;
  readonly tid: number;
  /** Kernel priority: 120 is nice 0, 130 nice 10. */
  readonly prio: number;
}

/**
 * A TCP segment arriving at a socket. tcp_probe names the receiving socket's own port first:
 * `localPort` received `dataBytes` from `remotePort`.
 */
export interface TcpReceiveEvent {
  readonly kind: 'tcp';
  readonly time: number;
  readonly localPort: number;
  readonly remotePort: number;
  readonly dataBytes: number;
}

/** A sleeping task made runnable; it runs once the scheduler picks it. */
export interface WakeupEvent {
  readonly kind: 'wakeup';
  readonly time: number;
  readonly tid: number;
}

export type TraceEvent = SwitchEvent | WakeupEvent | TcpReceiveEvent;

const EVENT_LINE = /^\s*\d+\s+(\d+\.\d+):\s+([\w:]+):\s*(.*)$/;
const SWITCH_FIELDS =
  /^prev_comm=(.*?) prev_pid=(\d+) prev_prio=(\d+) prev_state=(\S+) ==> next_comm=(.*?) next_pid=(\d+) next_prio=(\d+)\s*$/;
const WAKEUP_FIELDS = /\bpid=(\d+) prio=/;
const TCP_FIELDS = /\bsrc=\S*:(\d+) dest=\S*:(\d+) .*\bdata_len=(\d+)/;
const FRAME_LINE = /^\s+[0-9a-f]+\s+(\S+)/;

/** Parses the lines of `perf script` output (an array, or a file read line by line). */
export async function parsePerfScript(lines: Iterable<string> | AsyncIterable<string>): Promise<TraceEvent[]> {
  const events: TraceEvent[] = [];
  let stack: string[] | undefined;
  for await (const line of lines) {
    const event = EVENT_LINE.exec(line);
    if (event) {
      stack = undefined;
      const [, time, name, fields] = event;
      if (name === 'sched:sched_switch') {
        const parsed = parseSwitch(Number(time), fields!);
        if (parsed) {
          events.push(parsed);
          stack = parsed.stack as string[];
        }
      } else if (name === 'sched:sched_wakeup') {
        const wakeup = WAKEUP_FIELDS.exec(fields!);
        if (wakeup) events.push({ kind: 'wakeup', time: Number(time), tid: Number(wakeup[1]) });
      } else if (name === 'tcp:tcp_probe') {
        const tcp = TCP_FIELDS.exec(fields!);
        if (tcp) events.push({ kind: 'tcp', time: Number(time), localPort: Number(tcp[1]), remotePort: Number(tcp[2]), dataBytes: Number(tcp[3]) });
      }
      continue;
    }
    const frame = FRAME_LINE.exec(line);
    if (frame && stack) stack.push(frame[1]!);
  }
  return events;
}

function parseSwitch(time: number, fields: string): SwitchEvent | undefined {
  const m = SWITCH_FIELDS.exec(fields);
  if (!m) return undefined;
  return {
    kind: 'switch',
    time,
    prev: { comm: m[1]!, tid: Number(m[2]), prio: Number(m[3]) },
    prevState: m[4]!,
    next: { comm: m[5]!, tid: Number(m[6]), prio: Number(m[7]) },
    stack: [],
  };
}
