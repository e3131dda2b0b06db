const utf8 = new TextEncoder();

/** More distinct names than a server's models, signatures and outputs: then the cache starts over. */
const MAX_NAMES = 512;
const MAX_NAME_LENGTH = 256;
const encoded = new Map<string, Uint8Array>();

/**
 * The UTF-8 bytes of a name that every response repeats (model, signature, output names), encoded
 * once: TextEncoder costs ~2% of the main thread under small-model load when called per response.
 * Callers copy the bytes and must not change them.
 */
export function utf8Name(name: string): Uint8Array {
  let bytes = encoded.get(name);
  if (bytes !== undefined) return bytes;
  bytes = utf8.encode(name);
  if (name.length <= MAX_NAME_LENGTH) {
    if (encoded.size >= MAX_NAMES) encoded.clear();
    encoded.set(name, bytes);
  }
  return bytes;
}
