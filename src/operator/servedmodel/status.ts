import type { V1Deployment } from '@kubernetes/client-node';
import { CONDITION_MESSAGE_MAX_LENGTH, type Condition, type ServedModel, type ServedModelStatus } from '../../api/served-model-types.js';
import { GRPC_PORT, HTTP_PORT } from '../specs/service.js';
import { headlessServiceName, selectorLabels } from '../specs/owned-meta.js';
import { claimRolloutProblem, type ClaimObservation } from './claim-observation.js';
import type { PodObservation } from './pod-observation.js';
import { servedVersions, type ConditionInput } from './served-versions.js';
import { sourceReadyCondition, type ConfigMapObservation, type SecretObservation } from './source-condition.js';

export type { ConfigMapObservation, SecretObservation } from './source-condition.js';

export interface Observation {
  readonly deployment: V1Deployment | undefined;
  readonly secret: SecretObservation;
  /** The ConfigMap of source.caBundleRef; absent without one. */
  readonly caBundle?: ConfigMapObservation;
  /** The PersistentVolumeClaim of a pvc:// source; absent for S3. */
  readonly claim?: ClaimObservation;
  /** The gRPC TLS Secret of spec.tls; absent without spec.tls. */
  readonly tlsSecret?: SecretObservation;
  /** Why applying the desired objects failed, if it did. */
  readonly applyError?: string;
  /** Why the model server would refuse this spec (so its ConfigMap and Deployment were left as they were). */
  readonly specRefusal?: string;
  /** What the ready pods' model servers reported; undefined when there were none to ask. */
  readonly pods?: PodObservation;
  /** With no ready pod: what some of the pods that are not ready reported (why they are not, if they say). */
  readonly startingPods?: PodObservation;
  /** Why spec.autoscaling's HorizontalPodAutoscaler cannot scale, once it has failed long enough. */
  readonly autoscalingProblem?: ConditionInput;
}

/** Why the gRPC TLS Secret keeps the pods from starting or serving TLS, if it does. */
export function tlsSecretProblem(sm: ServedModel, secret: SecretObservation | undefined): ConditionInput | undefined {
  if (!secret) return undefined;
  switch (secret.state) {
    case 'not-referenced':
      return undefined;
    case 'missing':
      return { type: 'Degraded', status: 'True', reason: 'TLSSecretNotFound', message: `TLS Secret ${secret.name} does not exist: the pods cannot start` };
    case 'unreadable':
      return undefined;
    case 'found': {
      const wanted = ['tls.crt', 'tls.key', ...(sm.spec.tls?.requireClientCertificate ? ['ca.crt'] : [])];
      const missing = wanted.filter((k) => !secret.keys.includes(k));
      return missing.length > 0
        ? { type: 'Degraded', status: 'True', reason: 'TLSSecretIncomplete', message: `TLS Secret ${secret.name} lacks ${missing.join(', ')}` }
        : undefined;
    }
  }
}

function deploymentProgress(desired: number, d: V1Deployment | undefined): { rolling: boolean; stalled: boolean; message: string } {
  if (!d) return { rolling: true, stalled: false, message: 'Deployment not created yet' };
  const s = d.status ?? {};
  const stalled = (s.conditions ?? []).some((c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded');
  if ((s.observedGeneration ?? 0) < (d.metadata?.generation ?? 0)) return { rolling: true, stalled, message: 'Deployment change not yet observed' };
  const updated = s.updatedReplicas ?? 0;
  const total = s.replicas ?? 0;
  if (updated < desired || total > updated) {
    return { rolling: true, stalled, message: `${updated} of ${desired} pods updated, ${total} running` };
  }
  return { rolling: false, stalled, message: `All ${desired} pods updated` };
}

/**
 * A message the CRD admits. The apiserver's own (ApplyFailed) can be far longer (one line per
 * invalid field, values included): a status with one would be refused whole, and the ServedModel
 * would show no status at all.
 */
export function fitConditionMessage(message: string): string {
  // Characters, as the apiserver counts maxLength (code points; a surrogate pair is one).
  const chars = [...message];
  if (chars.length <= CONDITION_MESSAGE_MAX_LENGTH) return message;
  const note = ` … (${chars.length - CONDITION_MESSAGE_MAX_LENGTH} more characters; the operator's log has all of it)`;
  const kept = CONDITION_MESSAGE_MAX_LENGTH - [...note].length;
  return `${chars.slice(0, kept).join('')}${note}`;
}

/**
 * The status a ServedModel should have, from what was observed. Pure: `now` only stamps a
 * condition whose status flipped; otherwise the previous lastTransitionTime is kept.
 */
export function computeStatus(sm: ServedModel, observed: Observation, now: Date): ServedModelStatus {
  const generation = sm.metadata.generation ?? 0;
  const desired = sm.spec.replicas ?? 1;
  const ds = observed.deployment?.status ?? {};
  const ready = ds.readyReplicas ?? 0;
  const progress = deploymentProgress(desired, observed.deployment);
  const source = sourceReadyCondition(sm, observed);

  const degradedReasons: ConditionInput[] = [];
  if (observed.specRefusal) degradedReasons.push({ type: 'Degraded', status: 'True', reason: 'InvalidSpec', message: observed.specRefusal });
  if (observed.applyError) degradedReasons.push({ type: 'Degraded', status: 'True', reason: 'ApplyFailed', message: observed.applyError });
  if (source.status === 'False') degradedReasons.push({ ...source, type: 'Degraded', status: 'True' });
  const claimProblem = claimRolloutProblem(observed.claim);
  if (claimProblem) degradedReasons.push(claimProblem);
  const tlsProblem = tlsSecretProblem(sm, observed.tlsSecret);
  if (tlsProblem) degradedReasons.push(tlsProblem);
  const replicaFailure = observed.deployment?.status?.conditions?.find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
  // The ReplicaSet could not create pods: a quota, a missing ServiceAccount, a pod security policy.
  if (replicaFailure) degradedReasons.push({ type: 'Degraded', status: 'True', reason: 'PodsNotCreated', message: replicaFailure.message ?? replicaFailure.reason ?? 'pods could not be created' });
  if (observed.autoscalingProblem) degradedReasons.push(observed.autoscalingProblem);
  if (progress.stalled) degradedReasons.push({ type: 'Degraded', status: 'True', reason: 'ProgressDeadlineExceeded', message: 'The rollout stopped making progress' });
  const view = servedVersions(sm, observed.pods ?? observed.startingPods);
  if (view.loadFailure) degradedReasons.push(view.loadFailure);
  const degraded: ConditionInput = degradedReasons[0] ?? { type: 'Degraded', status: 'False', reason: 'AsExpected', message: 'No problems found' };

  let readyCondition: ConditionInput;
  if (desired === 0) readyCondition = { type: 'Ready', status: 'False', reason: 'ScaledToZero', message: 'spec.replicas is 0' };
  else if (ready >= desired && !progress.rolling) readyCondition = { type: 'Ready', status: 'True', reason: 'AllReplicasReady', message: `${ready}/${desired} pods ready` };
  else if (ready > 0) readyCondition = { type: 'Ready', status: 'True', reason: 'PartiallyReady', message: `${ready}/${desired} pods ready` };
  else readyCondition = { type: 'Ready', status: 'False', reason: 'NoReplicasReady', message: `0/${desired} pods ready` };

  const progressing: ConditionInput = progress.rolling
    ? { type: 'Progressing', status: 'True', reason: 'RollingOut', message: progress.message }
    : { type: 'Progressing', status: 'False', reason: 'RolloutComplete', message: progress.message };

  const previous = new Map((sm.status?.conditions ?? []).map((c) => [c.type, c]));
  const conditions: Condition[] = [readyCondition, progressing, degraded, source, view.routing].map((c) => {
    const before = previous.get(c.type);
    const lastTransitionTime = before && before.status === c.status ? before.lastTransitionTime : now.toISOString().replace(/\.\d{3}Z$/, 'Z');
    return { ...c, message: fitConditionMessage(c.message), observedGeneration: generation, lastTransitionTime };
  });

  const { versions, summary, canary } = view;
  const { name, namespace } = sm.metadata;
  return {
    observedGeneration: generation,
    replicas: ds.replicas ?? 0,
    readyReplicas: ready,
    updatedReplicas: ds.updatedReplicas ?? 0,
    ...(observed.pods ? { observedReplicas: observed.pods.answered } : {}),
    ready: `${ready}/${desired}`,
    selector: Object.entries(selectorLabels(sm)).map(([k, v]) => `${k}=${v}`).join(','),
    servedVersions: summary,
    ...(canary ? { canary } : {}),
    versions,
    endpoints: {
      grpc: `${name}.${namespace}.svc:${GRPC_PORT}`,
      rest: `http://${name}.${namespace}.svc:${HTTP_PORT}`,
      headless: `${headlessServiceName(sm)}.${namespace}.svc:${GRPC_PORT}`,
    },
    conditions,
  };
}
