import { DEFAULT_CA_BUNDLE_KEY, type ServedModel } from '../../api/served-model-types.js';
import { LISTING_FAILS, NO_VERSION_DIRECTORY, REPEATED_DOWNLOAD_FAILURES, downloadFailures } from '../../shared/model-status-text.js';
import { claimSourceCondition, type ClaimObservation } from './claim-observation.js';
import type { PodObservation } from './pod-observation.js';
import type { ConditionInput } from './served-versions.js';

export type SecretObservation =
  | { readonly state: 'not-referenced' }
  | { readonly state: 'missing'; readonly name: string }
  | { readonly state: 'found'; readonly name: string; readonly keys: readonly string[] }
  | { readonly state: 'unreadable'; readonly name: string; readonly message: string };

/** A ConfigMap the spec references (source.caBundleRef): its keys when found. */
export type ConfigMapObservation = Exclude<SecretObservation, { readonly state: 'not-referenced' }>;

/** What SourceReady is made of. */
export interface SourceObservation {
  readonly secret: SecretObservation;
  readonly caBundle?: ConfigMapObservation;
  readonly claim?: ClaimObservation;
  readonly pods?: PodObservation;
  readonly startingPods?: PodObservation;
}

/**
 * SourceReady: what the spec references (a claim; else the CA bundle, then the credentials
 * Secret) first, since a broken reference keeps pods from starting at all; then, when that is
 * fine, what the servers say of the source.
 */
export function sourceReadyCondition(sm: ServedModel, observed: SourceObservation): ConditionInput {
  const configured = observed.claim ? claimSourceCondition(observed.claim) : (caBundleProblem(sm, observed.caBundle) ?? secretSourceCondition(observed.secret));
  return (configured.status === 'True' && serverSourceProblem(observed.pods ?? observed.startingPods)) || configured;
}

const REQUIRED_SECRET_KEYS = ['accessKeyId', 'secretAccessKey'];

function secretSourceCondition(secret: SecretObservation): ConditionInput {
  switch (secret.state) {
    case 'not-referenced':
      return { type: 'SourceReady', status: 'True', reason: 'PodIdentity', message: 'No credentials Secret; the pods use their own identity' };
    case 'missing':
      return { type: 'SourceReady', status: 'False', reason: 'SecretNotFound', message: `Secret ${secret.name} does not exist` };
    case 'unreadable':
      return { type: 'SourceReady', status: 'Unknown', reason: 'SecretUnreadable', message: `Secret ${secret.name} could not be read: ${secret.message}` };
    case 'found': {
      const missing = REQUIRED_SECRET_KEYS.filter((k) => !secret.keys.includes(k));
      return missing.length > 0
        ? { type: 'SourceReady', status: 'False', reason: 'SecretIncomplete', message: `Secret ${secret.name} lacks ${missing.join(', ')}` }
        : { type: 'SourceReady', status: 'True', reason: 'CredentialsFound', message: `Credentials from Secret ${secret.name}` };
    }
  }
}

/** Why source.caBundleRef keeps the pods from starting, if it does. */
function caBundleProblem(sm: ServedModel, observed: ConfigMapObservation | undefined): ConditionInput | undefined {
  if (!observed) return undefined;
  const key = sm.spec.source.caBundleRef?.key ?? DEFAULT_CA_BUNDLE_KEY;
  switch (observed.state) {
    case 'missing':
      return { type: 'SourceReady', status: 'False', reason: 'CABundleNotFound', message: `ConfigMap ${observed.name} (source.caBundleRef) does not exist: the pods cannot start` };
    case 'unreadable':
      return { type: 'SourceReady', status: 'Unknown', reason: 'CABundleUnreadable', message: `ConfigMap ${observed.name} could not be read: ${observed.message}` };
    case 'found':
      return observed.keys.includes(key)
        ? undefined
        : { type: 'SourceReady', status: 'False', reason: 'CABundleIncomplete', message: `ConfigMap ${observed.name} lacks ${key}: the pods cannot start` };
  }
}

/**
 * The servers run but serve nothing, and their NOT_FOUND message says why: they cannot list the
 * source (bucket, credentials, endpoint, a missing path), it holds no numbered version directory,
 * or downloading a version failed (e.g. reads denied where listing is allowed). One still
 * downloading its first version, or waiting for one to be complete, is not a broken source. The retry countdown is dropped so that the status does not change with every
 * backoff step.
 */
function serverSourceProblem(observed: PodObservation | undefined): ConditionInput | undefined {
  const found = observed?.noVersions;
  if (!found) return undefined;
  const why = found.message.replace(/; retrying in \d+ s$/, '');
  if (why.includes(LISTING_FAILS)) {
    return { type: 'SourceReady', status: 'False', reason: 'ListingFailed', message: `The model servers cannot list the source (pod ${found.pod}: ${why})` };
  }
  if (why.includes(NO_VERSION_DIRECTORY)) {
    return { type: 'SourceReady', status: 'False', reason: 'NoVersionsInSource', message: `The source holds no version to serve (pod ${found.pod}: ${why})` };
  }
  // A download that failed once or twice is a passing fault the server retries; from the third
  // failure in a row it is reported, worded without the count so the status does not change with
  // every attempt.
  const failures = downloadFailures(why);
  if (failures !== undefined && failures >= REPEATED_DOWNLOAD_FAILURES) {
    const steady = why.replace(/, which failed \d+ times in a row \(/, `, which failed ${REPEATED_DOWNLOAD_FAILURES} or more times in a row (`);
    return { type: 'SourceReady', status: 'False', reason: 'DownloadFailed', message: `The model servers cannot download a version (pod ${found.pod}: ${steady})` };
  }
  return undefined;
}
