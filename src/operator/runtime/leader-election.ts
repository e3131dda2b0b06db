import type { CoordinationV1Api, V1Lease } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { QueueTimers } from './work-queue.js';

export interface LeaderElectionOptions {
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
}

export interface LeaderElectionDeps {
  readonly api: CoordinationV1Api;
  readonly now: () => Date;
  readonly timers: QueueTimers;
  readonly logger: Logger;
}

const statusOf = (error: unknown): number | undefined => (error as { code?: number } | undefined)?.code;

/** RFC 3339 with microseconds, the form coordination.k8s.io MicroTime fields use. */
const microTime = (date: Date): string => date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

function sleep(timers: QueueTimers, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const handle = timers.setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      timers.clearTimeout(handle);
      resolve();
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Leader election on a coordination.k8s.io Lease, as client-go does it: whoever updates the
 * Lease with the resourceVersion it read wins; an observed Lease counts as expired only after
 * leaseDuration of *local* time without change, so clock skew between replicas does not matter.
 */
export class LeaderElector {
  private observedKey = '';
  private observedAt = 0;

  constructor(
    private readonly options: LeaderElectionOptions,
    private readonly deps: LeaderElectionDeps,
  ) {}

  /**
   * Campaigns until leading, then calls `lead` with a signal that aborts when leadership is
   * lost or `signal` aborts. Resolves after `lead` settles; the Lease is released on shutdown.
   */
  async run(signal: AbortSignal, lead: (leading: AbortSignal) => Promise<void>): Promise<void> {
    const { retryPeriodMs, renewDeadlineMs } = this.options;
    while (!signal.aborted) {
      if (await this.tryAcquireOrRenew()) break;
      await sleep(this.deps.timers, retryPeriodMs, signal);
    }
    if (signal.aborted) return;
    this.deps.logger.info({ lease: this.options.name, identity: this.options.identity }, 'acquired leadership');
    const leading = new AbortController();
    const stopLeading = (): void => leading.abort();
    signal.addEventListener('abort', stopLeading, { once: true });
    const renewing = (async () => {
      let lastRenew = this.deps.now().getTime();
      while (!leading.signal.aborted) {
        await sleep(this.deps.timers, retryPeriodMs, leading.signal);
        if (leading.signal.aborted) break;
        if (await this.tryAcquireOrRenew()) {
          lastRenew = this.deps.now().getTime();
        } else if (this.deps.now().getTime() - lastRenew > renewDeadlineMs) {
          this.deps.logger.error({ lease: this.options.name }, 'lost leadership: could not renew the lease in time');
          leading.abort();
        }
      }
    })();
    try {
      await lead(leading.signal);
    } finally {
      leading.abort();
      signal.removeEventListener('abort', stopLeading);
      await renewing;
      await this.release();
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity, leaseDurationMs } = this.options;
    const now = this.deps.now();
    const spec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
      acquireTime: microTime(now) as unknown as Date,
      renewTime: microTime(now) as unknown as Date,
      leaseTransitions: 0,
    };
    let lease: V1Lease;
    try {
      lease = await this.deps.api.readNamespacedLease({ namespace, name });
    } catch (error) {
      if (statusOf(error) !== 404) {
        this.deps.logger.warn({ err: error }, 'could not read the leader lease');
        return false;
      }
      try {
        await this.deps.api.createNamespacedLease({ namespace, body: { metadata: { name, namespace }, spec } });
        return true;
      } catch (createError) {
        if (statusOf(createError) !== 409) this.deps.logger.warn({ err: createError }, 'could not create the leader lease');
        return false;
      }
    }
    const holder = lease.spec?.holderIdentity ?? '';
    const key = `${holder}|${String(lease.spec?.renewTime ?? '')}|${lease.metadata?.resourceVersion ?? ''}`;
    if (key !== this.observedKey) {
      this.observedKey = key;
      this.observedAt = now.getTime();
    }
    const durationMs = (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
    if (holder !== '' && holder !== identity && now.getTime() < this.observedAt + durationMs) return false;
    const transitions = (lease.spec?.leaseTransitions ?? 0) + (holder === identity ? 0 : 1);
    try {
      await this.deps.api.replaceNamespacedLease({
        namespace,
        name,
        body: {
          metadata: { name, namespace, resourceVersion: lease.metadata?.resourceVersion },
          spec: {
            ...spec,
            acquireTime: holder === identity ? lease.spec?.acquireTime ?? spec.acquireTime : spec.acquireTime,
            leaseTransitions: transitions,
          },
        },
      });
      return true;
    } catch (error) {
      if (statusOf(error) !== 409) this.deps.logger.warn({ err: error }, 'could not renew the leader lease');
      return false;
    }
  }

  /** Hands the Lease back so another replica takes over without waiting for it to expire. */
  private async release(): Promise<void> {
    const { namespace, name, identity } = this.options;
    try {
      const lease = await this.deps.api.readNamespacedLease({ namespace, name });
      if (lease.spec?.holderIdentity !== identity) return;
      const now = microTime(this.deps.now()) as unknown as Date;
      await this.deps.api.replaceNamespacedLease({
        namespace,
        name,
        body: {
          metadata: { name, namespace, resourceVersion: lease.metadata?.resourceVersion },
          spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now, acquireTime: now },
        },
      });
      this.deps.logger.info({ lease: name }, 'released leadership');
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'could not release the leader lease');
    }
  }
}
