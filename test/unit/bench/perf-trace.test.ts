import { describe, expect, it } from 'vitest';
import { parsePerfScript, type SwitchEvent, type TcpReceiveEvent, type WakeupEvent } from '../../../bench/lib/perf-trace.js';

// Lines as `perf script -F tid,time,event,trace,ip,sym` prints them (kernel call chains under a switch).
const SAMPLE = `
 1616 21472.083082: sched:sched_switch: prev_comm=node prev_pid=1616 prev_prio=120 prev_state=R+ ==> next_comm=grpc-load next_pid=1646 next_prio=120
\tffffffff82248208 __schedule
\tffffffff82248b73 schedule
\tffffffff8110a0c1 exit_to_user_mode_loop
 1616 21472.083299: sched:sched_switch: prev_comm=node prev_pid=1616 prev_prio=120 prev_state=S ==> next_comm=tf_Compute next_pid=1633 next_prio=130
\tffffffff82248208 __schedule
\tffffffff81502b11 do_epoll_wait
 1392 21388.641729: tcp:tcp_probe: family=AF_INET6 src=[::ffff:127.0.0.1]:44277 dest=[::ffff:127.0.0.1]:52694 mark=0 data_len=65 snd_nxt=0x937d12db snd_una=0x937d12db snd_cwnd=10 ssthresh=2147483647 snd_wnd=65536 srtt=19 rcv_wnd=65483 sock_cookie=1 skbaddr=0xffff888100d70ae0 skaddr=0xffff888227040000
 1392 21388.641739: tcp:tcp_probe: family=AF_INET src=127.0.0.1:52694 dest=127.0.0.1:44277 mark=0 data_len=0 snd_nxt=0x67102fe7 snd_una=0x67102fa6 snd_cwnd=10 ssthresh=2147483647 snd_wnd=65483 srtt=25 rcv_wnd=65536 sock_cookie=2 skbaddr=0xffff88814b0a1c00 skaddr=0xffff8881032e5c80
 1653 21472.083067: sched:sched_wakeup: comm=node pid=1616 prio=120 target_cpu=001
\tffffffff81234567 try_to_wake_up
`;

describe('parsePerfScript', () => {
  it('reads switches with their kernel frames and TCP receives with the receiving port first', async () => {
    const events = await parsePerfScript(SAMPLE.split('\n'));
    expect(events).toHaveLength(5);
    const [preempted, asleep, request, ack, wakeup] = events as [SwitchEvent, SwitchEvent, TcpReceiveEvent, TcpReceiveEvent, WakeupEvent];
    expect(preempted).toMatchObject({ kind: 'switch', time: 21472.083082, prevState: 'R+', prev: { comm: 'node', tid: 1616, prio: 120 }, next: { comm: 'grpc-load', tid: 1646 } });
    expect(preempted.stack).toEqual(['__schedule', 'schedule', 'exit_to_user_mode_loop']);
    expect(asleep.stack).toEqual(['__schedule', 'do_epoll_wait']);
    expect(asleep.next).toEqual({ comm: 'tf_Compute', tid: 1633, prio: 130 });
    expect(request).toEqual({ kind: 'tcp', time: 21388.641729, localPort: 44277, remotePort: 52694, dataBytes: 65 });
    expect(ack).toMatchObject({ localPort: 52694, remotePort: 44277, dataBytes: 0 });
    expect(wakeup).toEqual({ kind: 'wakeup', time: 21472.083067, tid: 1616 });
  });

  it('keeps task names with spaces and ignores frames of events it does not keep', async () => {
    const text = ' 9 1.5: sched:sched_switch: prev_comm=kworker/u8:2 flush prev_pid=9 prev_prio=120 prev_state=I ==> next_comm=swapper/0 next_pid=0 next_prio=120\n';
    const events = await parsePerfScript([' 1 1.0: sched:sched_stat_runtime: comm=x pid=1 runtime=5', '\tffffffff81 update_curr', ...text.split('\n')]);
    expect(events).toHaveLength(1);
    const [event] = events as SwitchEvent[];
    expect(event!.prev.comm).toBe('kworker/u8:2 flush');
    expect(event!.stack).toEqual([]);
  });
});
