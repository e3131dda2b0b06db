/*
 * Words a model server puts in the NOT_FOUND model status of a model without a version, saying
 * why. The operator looks for them to tell a broken source (bucket, credentials, endpoint, an
 * empty prefix, denied reads) from one that is still syncing its first version.
 */

/** Before the error of a base path that cannot be listed. */
export const LISTING_FAILS = '; listing its base path fails: ';

/** The start of a source's explanation when its base path holds no numbered version directory. */
export const NO_VERSION_DIRECTORY = 'no numbered version directory under ';

/** What a source adds to "downloading version N from ..." after attempts failed (see downloadFailedText). */
export const DOWNLOAD_FAILED = ', which failed ';

/** `, which failed N times in a row (<error>)`: the consecutive failed attempts and the last error. */
export function downloadFailedText(times: number, error: string): string {
  return `${DOWNLOAD_FAILED}${times} ${times === 1 ? 'time' : 'times'} in a row (${error})`;
}

const FAILED_TIMES = /, which failed (\d+) times? in a row \(/;

/** The consecutive failed download attempts a status text reports, if it reports any. */
export function downloadFailures(text: string): number | undefined {
  const match = FAILED_TIMES.exec(text);
  return match === null ? undefined : Number(match[1]);
}

/** From this many failed attempts in a row a download is a problem to report, not a passing fault. */
export const REPEATED_DOWNLOAD_FAILURES = 3;
