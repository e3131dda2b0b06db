import type { ConditionInput } from './served-versions.js';

/** What the operator found of a pvc:// source's PersistentVolumeClaim. */
export type ClaimObservation =
  | { readonly state: 'missing'; readonly name: string }
  | { readonly state: 'unreadable'; readonly name: string; readonly message: string }
  | { readonly state: 'found'; readonly name: string; readonly phase: string; readonly accessModes: readonly string[] };

export function claimSourceCondition(claim: ClaimObservation): ConditionInput {
  const what = `PersistentVolumeClaim ${claim.name}`;
  switch (claim.state) {
    case 'missing':
      return { type: 'SourceReady', status: 'False', reason: 'ClaimNotFound', message: `${what} does not exist: the pods cannot start` };
    case 'unreadable':
      return { type: 'SourceReady', status: 'Unknown', reason: 'ClaimUnreadable', message: `${what} could not be read: ${claim.message}` };
    case 'found':
      if (claim.phase === 'Bound') {
        return { type: 'SourceReady', status: 'True', reason: 'ClaimBound', message: `${what} is bound (${claim.accessModes.join(', ') || 'no access modes'})` };
      }
      if (claim.phase === 'Lost') {
        return { type: 'SourceReady', status: 'False', reason: 'ClaimLost', message: `${what} lost its volume: the pods cannot mount it` };
      }
      // Not a problem yet: a WaitForFirstConsumer storage class binds when the first pod is scheduled.
      return { type: 'SourceReady', status: 'Unknown', reason: 'ClaimPending', message: `${what} is not bound to a volume yet (${claim.phase || 'no phase'})` };
  }
}

/**
 * A claim only one pod may use at a time: serving works, but every rolling update starts a new
 * pod before the old one stops (maxUnavailable 0), and the new one can never be scheduled.
 */
export function claimRolloutProblem(claim: ClaimObservation | undefined): ConditionInput | undefined {
  if (claim?.state !== 'found' || !claim.accessModes.includes('ReadWriteOncePod')) return undefined;
  return {
    type: 'Degraded',
    status: 'True',
    reason: 'ClaimSinglePod',
    message:
      `PersistentVolumeClaim ${claim.name} is ReadWriteOncePod: a second pod cannot mount it, so rolling updates and more replicas ` +
      'cannot start; give the model versions a ReadOnlyMany or ReadWriteMany claim',
  };
}
