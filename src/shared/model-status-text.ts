/**
 * The words a model server puts in its NOT_FOUND model status when a model has no version because
 * its base path cannot be listed. The operator looks for them to tell a broken source (bucket,
 * credentials, endpoint) from one that is still syncing its first version.
 */
export const LISTING_FAILS = '; listing its base path fails: ';

/** The start of a source's explanation when its base path holds no numbered version directory. */
export const NO_VERSION_DIRECTORY = 'no numbered version directory under ';

/** What a source adds to "downloading version N from ..." after an attempt failed. */
export const DOWNLOAD_FAILED = ', which failed (';
