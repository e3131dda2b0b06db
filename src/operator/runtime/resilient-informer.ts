import type { Informer, KubernetesObject, ObjectCache } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { QueueTimers } from './work-queue.js';

export type CachedInformer<T extends KubernetesObject> = Informer<T> & ObjectCache<T>;

export interface ResilientInformerDeps {
  readonly timers: QueueTimers;
  readonly logger: Logger;
  readonly onError?: (name: string, error: unknown) => void;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
}

/**
 * client-node 1.4's informer relists after 410 Gone but stops on any other watch error. This
 * restarts it with exponential backoff (reset once a watch connects), never on top of a live
 * watch, and keeps its cache so readers see the last known state meanwhile.
 */
export class ResilientInformer<T extends KubernetesObject> {
  private attempts = 0;
  private restartTimer: unknown;
  private stopped = false;
  private synced = false;
  private failed = false;
  private readonly syncWaiters: (() => void)[] = [];

  constructor(
    readonly name: string,
    readonly informer: CachedInformer<T>,
    private readonly deps: ResilientInformerDeps,
  ) {
    informer.on('error', (error: unknown) => {
      this.failed = true;
      this.scheduleRestart(error);
    });
  }

  get cache(): ObjectCache<T> {
    return this.informer;
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.startOnce();
  }

  /** Resolves after the first successful list. */
  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  private async startOnce(): Promise<void> {
    this.failed = false;
    try {
      // start() reports list/watch failures through the error callback, not by rejecting.
      await this.informer.start();
      if (this.failed) return;
      this.attempts = 0;
      if (!this.synced) {
        this.synced = true;
        for (const resolve of this.syncWaiters.splice(0)) resolve();
      }
    } catch (error) {
      this.scheduleRestart(error);
    }
  }

  private scheduleRestart(error: unknown): void {
    if (this.stopped || this.restartTimer !== undefined) return;
    this.deps.onError?.(this.name, error);
    const base = this.deps.baseDelayMs ?? 200;
    const delay = Math.min(base * 2 ** this.attempts, this.deps.maxDelayMs ?? 30_000);
    this.attempts += 1;
    this.deps.logger.warn({ informer: this.name, err: error, delayMs: delay }, 'informer watch failed; restarting');
    this.restartTimer = this.deps.timers.setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopped) return;
      void this.startOnce();
    }, delay);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer !== undefined) this.deps.timers.clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    await this.informer.stop();
  }
}
