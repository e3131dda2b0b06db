import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { joinChunks, withoutByteOrderMark } from '../../../../../src/server/transports/rest/rest-reply.js';

const MARK = Buffer.from([0xef, 0xbb, 0xbf]);

/** The bytes cut into pieces at the given offsets, as Node may deliver a body. */
function cut(bytes: Buffer, offsets: number[]): Buffer[] {
  const ends = [...new Set(offsets.map((o) => o % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let start = 0;
  for (const end of [...ends, bytes.length]) {
    pieces.push(bytes.subarray(start, end));
    start = end;
  }
  return pieces;
}

describe('withoutByteOrderMark', () => {
  it('drops one leading mark however the body is cut, and keeps every other byte', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.uint8Array({ maxLength: 12 }), fc.array(fc.nat(), { maxLength: 6 }), (marked, rest, offsets) => {
        const body = Buffer.concat([marked ? MARK : Buffer.alloc(0), rest]);
        const expected = marked ? Buffer.from(rest) : body;
        expect(joinChunks(withoutByteOrderMark(cut(body, offsets)))).toEqual(expected);
      }),
    );
  });

  it.each([
    ['a second mark', Buffer.concat([MARK, MARK, Buffer.from('{}')]), Buffer.concat([MARK, Buffer.from('{}')])],
    ['a mark after whitespace', Buffer.concat([Buffer.from(' '), MARK, Buffer.from('{}')]), Buffer.concat([Buffer.from(' '), MARK, Buffer.from('{}')])],
    ['a partial mark', Buffer.from([0xef, 0xbb, 0x7b, 0x7d]), Buffer.from([0xef, 0xbb, 0x7b, 0x7d])],
    ['an empty body', Buffer.alloc(0), Buffer.alloc(0)],
  ])('keeps %s', (_name, body, expected) => {
    expect(joinChunks(withoutByteOrderMark([body]))).toEqual(expected);
  });

  it('returns the pieces themselves when there is no mark, and the later pieces untouched when there is', () => {
    const pieces = [Buffer.from('{"a"'), Buffer.from(': 1}')];
    expect(withoutByteOrderMark(pieces)).toBe(pieces);
    const marked = [Buffer.concat([MARK, Buffer.from('{"a"')]), pieces[1]!];
    expect(withoutByteOrderMark(marked)[1]).toBe(pieces[1]);
  });
});
