import type { ErrorCode } from '../../shared/errors.js';

/** TensorFlow Serving's ModelVersionStatus.State values (get_model_status.proto). */
export const VERSION_STATE_CODES = { START: 10, LOADING: 20, AVAILABLE: 30, UNLOADING: 40, END: 50 } as const;
export type VersionState = keyof typeof VERSION_STATE_CODES;

/**
 * One version as GetModelStatus reports it. A version whose load failed and will be retried is
 * LOADING with the last error; one whose retries are exhausted is END with the error (as in TF
 * Serving, where a failed load ends in END with a non-OK status).
 */
export interface ModelVersionStatus {
  readonly version: number;
  readonly state: VersionState;
  readonly errorCode: ErrorCode | 'OK';
  readonly errorMessage: string;
}
