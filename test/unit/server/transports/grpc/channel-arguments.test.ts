import { describe, expect, it } from 'vitest';
import { parseChannelArguments } from '../../../../../src/server/transports/grpc/channel-arguments.js';

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
});
