import { readFile } from 'node:fs/promises';
import { ServingError } from '../shared/errors.js';

/** The text of a file a flag names; a file that cannot be read is INVALID_ARGUMENT naming the flag. */
export function readFlagFile(flag: string, path: string): Promise<string> {
  return readFile(path, 'utf8').catch((error: unknown) => {
    throw new ServingError('INVALID_ARGUMENT', `cannot read --${flag} ${path}: ${String(error)}`);
  });
}
