import { DTYPES, elementCount, type HostTensor } from '../core/host-tensor.js';
import { joinRowBlocks } from '../core/row-blocks.js';

/**
 * Row-wise concatenation and splitting of HostTensors along dimension 0, the batch dimension.
 * Callers guarantee that the tensors being joined share dtype and trailing dimensions.
 */

/** Bytes (or strings) per row: the product of the trailing dimensions. */
function rowElements(tensor: HostTensor): number {
  return elementCount(tensor.shape.slice(1));
}

/**
 * Joins `parts` row-wise, then pads to `totalRows` by repeating the first row (TF Serving pads
 * batches up to an allowed size the same way); padded rows are dropped again by `splitRows`.
 */
export function concatRows(parts: readonly HostTensor[], totalRows: number): HostTensor {
  const first = parts[0]!;
  const shape = [totalRows, ...first.shape.slice(1)];
  const perRow = rowElements(first);
  const filled = parts.reduce((rows, part) => rows + (part.shape[0] ?? 0), 0);
  if (first.dtype === 'DT_STRING') {
    const strings: Uint8Array[] = [];
    for (const part of parts) strings.push(...(part as typeof first).strings);
    const firstRow = first.strings.slice(0, perRow);
    for (let row = filled; row < totalRows; row++) strings.push(...firstRow);
    return { dtype: 'DT_STRING', shape, strings };
  }
  return joinRowBlocks({ kind: 'row-blocks', dtype: first.dtype, shape, blocks: parts.map((part) => (part as typeof first).bytes) });
}

/**
 * Cuts a batched output back into one tensor per caller, `rows[i]` rows each, in order; rows
 * past their sum are padding and are dropped. Numeric parts are views of the batched buffer.
 */
export function splitRows(tensor: HostTensor, rows: readonly number[]): HostTensor[] {
  const perRow = rowElements(tensor);
  const tail = tensor.shape.slice(1);
  const out: HostTensor[] = [];
  let start = 0;
  for (const count of rows) {
    const shape = [count, ...tail];
    if (tensor.dtype === 'DT_STRING') {
      out.push({ dtype: 'DT_STRING', shape, strings: tensor.strings.slice(start * perRow, (start + count) * perRow) });
    } else {
      const rowBytes = perRow * DTYPES[tensor.dtype].width;
      out.push({ dtype: tensor.dtype, shape, bytes: tensor.bytes.subarray(start * rowBytes, (start + count) * rowBytes) });
    }
    start += count;
  }
  return out;
}
