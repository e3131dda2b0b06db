/*
 * Words a model server puts in the NOT_FOUND model status of a model without a version, saying
 * why. The operator looks for them to tell a broken source (bucket, credentials, endpoint, an
 * empty prefix, denied reads) from one that is still syncing its first version.
 */

/** Before the error of a base path that cannot be listed. */
export const LISTING_FAILS = '; listing its base path fails: ';

/** The start of a source's explanation when its base path holds no numbered version directory. */
export const NO_VERSION_DIRECTORY = 'no numbered version directory under ';

/** What a source adds to "downloading version N from ..." after an attempt failed. */
export const DOWNLOAD_FAILED = ', which failed (';
