/**
 * The Open Inference Protocol's side of dense-json-body.ts. In a /v2 infer JSON, the inputs'
 * `data` lists of numbers are most of a large body. They are read by the dense reader, and the
 * rest (names, shapes, datatypes, parameters: small and varied) by JSON.parse with those lists cut
 * out. The request is then the one parseInferRequest makes of the whole body, with each such
 * input's elements as resolved values. Whatever it cannot show to be the same gives undefined, and
 * the general path runs (and words every error).
 */
import { readNumberList, resolvedValues, type NumberList } from './dense-json-body.js';
import { parseJsonBody } from './json-tensor.js';
import { dtypeOfDatatype, parseInferRequest, type InferRequest, type RequestInput } from './open-inference-json.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/** A `data` list cut out of the body: the input it belongs to, and its numbers. */
interface CutList {
  readonly input: number;
  readonly start: number;
  readonly list: NumberList & { readonly end: number };
}

export function readDenseInferRequest(json: Uint8Array, binary: Uint8Array): InferRequest | undefined {
  const cuts = dataLists(json);
  if (cuts === undefined || cuts.length === 0) return undefined;
  let skeleton = '';
  let at = 0;
  for (const cut of cuts) {
    skeleton += utf8.decode(json.subarray(at, cut.start)) + '[]';
    at = cut.list.end;
  }
  skeleton += utf8.decode(json.subarray(at));
  let request: InferRequest;
  try {
    request = parseInferRequest(parseJsonBody(skeleton), binary);
  } catch {
    return undefined;
  }
  const inputs: RequestInput[] = [...request.inputs];
  for (const cut of cuts) {
    const input = inputs[cut.input];
    if (input === undefined || input.base64) return undefined;
    if (input.binary !== undefined) continue; // its data is not read
    const values = resolvedValues(cut.list, dtypeOfDatatype(input.datatype));
    if (values === undefined) return undefined;
    inputs[cut.input] = { ...input, elements: values };
  }
  return { ...request, inputs };
}

/** Frames of the containers the scanner is in. */
interface Frame {
  readonly object: boolean;
  /** The keys of an object that holds inputs or is one (a key given twice makes the cut ambiguous). */
  readonly keys: Set<string> | undefined;
  /** Object: the last key read; array: the index of the current element. */
  key: string | undefined;
  index: number;
}

/**
 * The `data` lists of numbers at `inputs[i].data`, in body order; undefined when the body's
 * structure makes the cut ambiguous (a key of the body or of an input given twice).
 */
function dataLists(bytes: Uint8Array): CutList[] | undefined {
  const cuts: CutList[] = [];
  const stack: Frame[] = [];
  let afterColon = false;
  let expectKey = false;
  let i = 0;
  while (i < bytes.length) {
    const c = bytes[i]!;
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
      i++;
      continue;
    }
    const top = stack[stack.length - 1];
    if (c === 0x5b && afterColon && stack.length === 3 && top!.key === 'data' && stack[0]!.key === 'inputs' && !stack[1]!.object) {
      const list = readNumberList(bytes, i);
      afterColon = false;
      if (list !== undefined) {
        const input = stack[1]!.index;
        if (cuts.some((cut) => cut.input === input)) return undefined;
        cuts.push({ input, start: i, list });
        i = list.end;
        continue;
      }
    }
    afterColon = false;
    if (c === 0x7b || c === 0x5b) {
      stack.push({ object: c === 0x7b, keys: c === 0x7b && stack.length <= 2 ? new Set() : undefined, key: undefined, index: 0 });
      expectKey = c === 0x7b;
      i++;
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
      expectKey = false;
      i++;
    } else if (c === 0x2c) {
      if (top?.object) expectKey = true;
      else if (top) top.index++;
      i++;
    } else if (c === 0x3a) {
      afterColon = true;
      i++;
    } else if (c === QUOTE) {
      const end = stringEnd(bytes, i);
      if (end === undefined) return undefined;
      if (expectKey && top?.object) {
        const key = keyText(bytes, i, end);
        if (key === undefined) return undefined;
        if (top.keys?.has(key)) return undefined;
        top.keys?.add(key);
        top.key = key;
        expectKey = false;
      }
      i = end;
    } else i++;
  }
  return cuts;
}

/** Just past the closing quote of the string that starts at `start`. */
function stringEnd(bytes: Uint8Array, start: number): number | undefined {
  for (let i = start + 1; i < bytes.length; i++) {
    const c = bytes[i];
    if (c === BACKSLASH) i++;
    else if (c === QUOTE) return i + 1;
  }
  return undefined;
}

function keyText(bytes: Uint8Array, start: number, end: number): string | undefined {
  try {
    return JSON.parse(utf8.decode(bytes.subarray(start, end))) as string;
  } catch {
    return undefined;
  }
}
