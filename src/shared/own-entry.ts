/**
 * Looks up a key that came from a request (a signature, input or output name) in a plain object.
 * `record[key]` would also find what every object inherits: "__proto__", "constructor" or
 * "toString" as a signature name would meet Object.prototype's members instead of NOT_FOUND.
 */
export function ownEntry<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** Sets `record[key]` as a plain data entry, even for "__proto__" (assignment would set the prototype). */
export function setOwnEntry<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}
