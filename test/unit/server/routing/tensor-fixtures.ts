import { DTYPES, type HostTensor, type NumericHostTensor } from '../../../../src/server/core/host-tensor.js';

type NumericDType = NumericHostTensor['dtype'];

/** Encodes values little-endian by dtype. HALF and BFLOAT16 take raw 16-bit patterns. */
export function numeric(dtype: NumericDType, shape: number[], values: readonly (number | bigint)[]): NumericHostTensor {
  const width = DTYPES[dtype].width;
  const bytes = new Uint8Array(values.length * width);
  const view = new DataView(bytes.buffer);
  values.forEach((value, i) => {
    const at = i * width;
    switch (dtype) {
      case 'DT_FLOAT':
        return view.setFloat32(at, Number(value), true);
      case 'DT_DOUBLE':
        return view.setFloat64(at, Number(value), true);
      case 'DT_INT32':
        return view.setInt32(at, Number(value), true);
      case 'DT_UINT32':
        return view.setUint32(at, Number(value), true);
      case 'DT_INT16':
        return view.setInt16(at, Number(value), true);
      case 'DT_UINT16':
      case 'DT_HALF':
      case 'DT_BFLOAT16':
        return view.setUint16(at, Number(value), true);
      case 'DT_INT8':
        return view.setInt8(at, Number(value));
      case 'DT_UINT8':
      case 'DT_BOOL':
        return view.setUint8(at, Number(value));
      case 'DT_INT64':
        return view.setBigInt64(at, BigInt(value), true);
      case 'DT_UINT64':
        return view.setBigUint64(at, BigInt(value), true);
    }
  });
  return { dtype, shape, bytes };
}

export function strings(shape: number[], values: readonly string[]): HostTensor {
  return { dtype: 'DT_STRING', shape, strings: values.map((s) => new Uint8Array(Buffer.from(s))) };
}
