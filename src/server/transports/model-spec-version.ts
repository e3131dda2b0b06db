import { invalidArgument } from '../../shared/errors.js';

/** A version number from the wire (int64 as text): refused unless a safe, non-negative integer. */
export function parseVersionNumber(text: string, where: string): number {
  if (!/^\d+$/.test(text)) throw invalidArgument(`${where} must be a non-negative integer, got "${text}"`);
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw invalidArgument(`${where} ${text} is beyond the versions TensorFleet serves (up to 2^53-1)`);
  return value;
}
