import { describe, expect, it } from 'vitest';
import { utf8Name } from '../../../../../../src/server/servables/tensorflow/codecs/utf8-names.js';

const utf8 = (s: string): number[] => [...new TextEncoder().encode(s)];

describe('utf8Name', () => {
  it('encodes names as UTF-8, the same bytes every time', () => {
    for (const name of ['serving_default', 'modèle', '模型', '']) {
      expect([...utf8Name(name)]).toEqual(utf8(name));
      expect([...utf8Name(name)]).toEqual(utf8(name));
    }
  });

  it('stays right past its size limits (many names, long names)', () => {
    const names = Array.from({ length: 1500 }, (_, i) => `output_${i}`);
    for (const name of [...names, ...names]) expect([...utf8Name(name)]).toEqual(utf8(name));
    const long = 'x'.repeat(10_000);
    expect(utf8Name(long)).toHaveLength(10_000);
  });
});
