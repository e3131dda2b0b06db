import { DTYPES, elementCount, type NumericHostTensor } from './host-tensor.js';

/**
 * A numeric batch tensor still in pieces: the callers' row blocks in order, to be joined where
 * the tensor is built (the inference worker), so the thread that collected the batch copies
 * nothing. Rows past the blocks' total repeat the first row (batch padding, as TF Serving pads).
 */
export interface RowBlocks {
  readonly kind: 'row-blocks';
  readonly dtype: NumericHostTensor['dtype'];
  /** The joined shape: [padded rows, ...trailing dimensions]. */
  readonly shape: readonly number[];
  readonly blocks: readonly Uint8Array[];
}

export function isRowBlocks(value: object): value is RowBlocks {
  return (value as { kind?: unknown }).kind === 'row-blocks';
}

/** Joins the blocks into one tensor, padding with copies of the first row. */
export function joinRowBlocks(tensor: RowBlocks): NumericHostTensor {
  const rowBytes = elementCount(tensor.shape.slice(1)) * DTYPES[tensor.dtype].width;
  const bytes = new Uint8Array((tensor.shape[0] ?? 0) * rowBytes);
  let offset = 0;
  for (const block of tensor.blocks) {
    bytes.set(block, offset);
    offset += block.byteLength;
  }
  for (let at = offset; at < bytes.byteLength; at += rowBytes) bytes.copyWithin(at, 0, rowBytes);
  return { dtype: tensor.dtype, shape: tensor.shape, bytes };
}
