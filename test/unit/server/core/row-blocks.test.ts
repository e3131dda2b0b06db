import { expect, test } from 'vitest';
import { joinRowBlocks } from '../../../../src/server/core/row-blocks.js';

test('joinRowBlocks puts the blocks one after another and pads with the first row', () => {
  const joined = joinRowBlocks({ kind: 'row-blocks', dtype: 'DT_UINT8', shape: [5, 2], blocks: [new Uint8Array([1, 2]), new Uint8Array([3, 4, 5, 6])] });
  expect(joined.shape).toEqual([5, 2]);
  expect([...joined.bytes]).toEqual([1, 2, 3, 4, 5, 6, 1, 2, 1, 2]);
});

test('joinRowBlocks handles rows of no elements', () => {
  const joined = joinRowBlocks({ kind: 'row-blocks', dtype: 'DT_FLOAT', shape: [3, 0], blocks: [new Uint8Array(0)] });
  expect([joined.shape, joined.bytes.byteLength]).toEqual([[3, 0], 0]);
});
