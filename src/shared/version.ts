import { createRequire } from 'node:module';

/** TensorFleet's version, from package.json (src/ and dist/ sit at the same depth under the root). */
export const TENSORFLEET_VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
