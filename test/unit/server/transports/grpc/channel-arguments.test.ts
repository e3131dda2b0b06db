import { describe, expect, it } from 'vitest';
import { flowControlOptions, parseChannelArguments } from '../../../../../src/server/transports/grpc/channel-arguments.js';

describe('parseChannelArguments', () => {
  it('reads key=value pairs as TF Serving does: integers become numbers, the rest stays text', () => {
    expect(parseChannelArguments('grpc.max_concurrent_streams=8, grpc.primary_user_agent = tf ,grpc.x=-3').arguments).toEqual({
      'grpc.max_concurrent_streams': 8,
      'grpc.primary_user_agent': 'tf',
      'grpc.x': -3,
    });
  });

  it('keeps integers beyond 2^53 and decimals as text rather than rounding them', () => {
    expect(parseChannelArguments('a=9007199254740993,b=1.5').arguments).toEqual({ a: '9007199254740993', b: '1.5' });
  });

  it('takes an empty list, and skips empty items', () => {
    expect(parseChannelArguments('')).toEqual({ arguments: {}, problems: [] });
    expect(parseChannelArguments('a=1,,').arguments).toEqual({ a: 1 });
  });

  it('names every item that is not key=value, and keys given twice', () => {
    expect(parseChannelArguments('grpc.a,=1,b=,c=1,c=2').problems).toEqual([
      '--grpc_channel_arguments: "grpc.a" is not key=value',
      '--grpc_channel_arguments: "=1" is not key=value',
      '--grpc_channel_arguments: "b=" is not key=value',
      '--grpc_channel_arguments: c is given twice',
    ]);
  });

  it('checks the HTTP/2 flow-control arguments it applies itself', () => {
    expect(parseChannelArguments('grpc.http2.lookahead_bytes=4194304,grpc.http2.bdp_probe=0').problems).toEqual([]);
    expect(parseChannelArguments('grpc.http2.lookahead_bytes=0,grpc.http2.bdp_probe=yes').problems).toEqual([
      '--grpc_channel_arguments: grpc.http2.lookahead_bytes must be a whole number of bytes from 1 to 2147483647 (an HTTP/2 window), not "0"',
      '--grpc_channel_arguments: grpc.http2.bdp_probe must be 0 or 1, not "yes"',
    ]);
    expect(parseChannelArguments('grpc.http2.lookahead_bytes=2147483648').problems).toHaveLength(1);
  });

  it('refuses turning channelz off, which would leave open calls running at shutdown', () => {
    expect(parseChannelArguments('grpc.enable_channelz=0').problems).toEqual([
      '--grpc_channel_arguments: grpc.enable_channelz=0 is refused: grpc-js could then not end open calls at shutdown',
    ]);
    expect(parseChannelArguments('grpc.enable_channelz=1').problems).toEqual([]);
  });
});

describe('flowControlOptions', () => {
  it('probes the bandwidth-delay product unless told not to, from Node\'s window unless given one', () => {
    expect(flowControlOptions({})).toEqual({ initialWindowBytes: undefined, bdpProbe: true });
    expect(flowControlOptions({ 'grpc.http2.bdp_probe': 1 })).toEqual({ initialWindowBytes: undefined, bdpProbe: true });
    expect(flowControlOptions({ 'grpc.http2.bdp_probe': 0, 'grpc.http2.lookahead_bytes': 1 << 20 })).toEqual({ initialWindowBytes: 1 << 20, bdpProbe: false });
  });
});
