/**
 * Looks up a key that came from a request (a signature, input or output name) in a plain object.
 * `record[key]` would also find what every object inherits: "__proto__", "constructor" or
 * "toString" as a signature name would meet Object.prototype's members instead of NOT_FOUND.
 */
export function ownEntry<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
