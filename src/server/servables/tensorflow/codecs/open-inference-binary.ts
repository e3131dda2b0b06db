/**
 * Triton's binary tensor data extension to the Open Inference Protocol (also gRPC's raw
 * contents): a tensor's elements as bytes, little-endian and row-major, BOOL one byte each, BYTES
 * each a 4-byte little-endian length and then the bytes.
 */
import { invalidArgument } from '../../../../shared/errors.js';
import { DTYPES, copyBytes, type DType, type HostTensor } from '../../../core/host-tensor.js';

/** Hands out the binary data of the inputs that have some, in order, and checks none is left over. */
export function binarySource(binary: Uint8Array | readonly Uint8Array[]): { take(size: number, name: string): Uint8Array; checkAllTaken(): void } {
  const parts = Array.isArray(binary) ? (binary as readonly Uint8Array[]) : undefined;
  const whole = parts === undefined ? (binary as Uint8Array) : undefined;
  const total = whole?.length ?? parts!.reduce((n, p) => n + p.length, 0);
  let offset = 0;
  let part = 0;
  return {
    take(size, name) {
      if (offset + size > total) throw invalidArgument(`input ${name}: binary_data_size ${size} goes past the ${total} bytes of binary data after the JSON`);
      const bytes = whole !== undefined ? whole.subarray(offset, offset + size) : parts![part++];
      if (bytes === undefined || bytes.length !== size) throw invalidArgument(`input ${name}: its raw contents are not ${size} bytes`);
      offset += size;
      return bytes;
    },
    checkAllTaken() {
      if (offset !== total) throw invalidArgument(`the body has ${total} bytes of binary data after the JSON, but the inputs' binary_data_size add up to ${offset}`);
    },
  };
}

/** An input's tensor from its bytes: numbers as a view of them, BYTES elements copied out. */
export function binaryTensor(name: string, dtype: DType, shape: number[], count: number, bytes: Uint8Array, datatype: string): HostTensor {
  if (dtype === 'DT_STRING') return { dtype, shape, strings: lengthPrefixedElements(name, count, bytes) };
  const want = count * DTYPES[dtype].width;
  if (bytes.length !== want) throw invalidArgument(`input ${name}: shape [${shape.join(',')}] of ${datatype} takes ${want} bytes, but binary_data_size is ${bytes.length}`);
  if (dtype === 'DT_BOOL' && bytes.some((b) => b > 1)) throw invalidArgument(`input ${name}: BOOL elements must be bytes 0 or 1`);
  return { dtype, shape, bytes };
}

/** BYTES elements of the binary extension: each a 4-byte little-endian length, then the bytes. */
function lengthPrefixedElements(name: string, count: number, bytes: Uint8Array): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const elements: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (at + 4 > bytes.length) throw invalidArgument(`input ${name}: binary BYTES data ends inside an element's 4-byte length`);
    const length = view.getUint32(at, true);
    at += 4;
    if (at + length > bytes.length) throw invalidArgument(`input ${name}: a binary BYTES element of ${length} bytes goes past the input's data`);
    elements.push(copyBytes(bytes.subarray(at, at + length)));
    at += length;
  }
  if (elements.length !== count) throw invalidArgument(`input ${name}: shape has ${count} elements, but the binary data holds ${elements.length}`);
  return elements;
}

/** An output's elements as the binary extension (and gRPC's raw_output_contents) writes them. */
export function binaryOf(tensor: HostTensor): Buffer {
  if (tensor.dtype !== 'DT_STRING') return Buffer.from(tensor.bytes.buffer, tensor.bytes.byteOffset, tensor.bytes.byteLength);
  const out = Buffer.allocUnsafe(tensor.strings.reduce((n, s) => n + 4 + s.length, 0));
  let at = 0;
  for (const s of tensor.strings) {
    out.writeUInt32LE(s.length, at);
    out.set(s, at + 4);
    at += 4 + s.length;
  }
  return out;
}
