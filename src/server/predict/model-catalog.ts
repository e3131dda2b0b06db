import type { RequestLoggingConfig, RoutingConfig } from '../config/model-config.js';
import type { Servable } from '../core/servable.js';
import type { SignatureMap } from '../core/signature.js';

/** A version in use by one request; release() lets it unload once nobody holds it. */
export interface VersionHandle {
  readonly model: string;
  readonly version: number;
  readonly servable: Servable;
  release(): void;
}

export interface VersionSelector {
  readonly version?: number;
  readonly label?: string;
}

/** What the request path needs from the model manager (adapter: serving-catalog.ts). */
export interface ModelCatalog {
  /** Throws NOT_FOUND/UNAVAILABLE ServingErrors naming the model, version or label. */
  acquire(model: string, selector: VersionSelector): VersionHandle;
  availableVersions(model: string): readonly number[];
  labels(model: string): Readonly<Record<string, number>>;
  routing(model: string): RoutingConfig | undefined;
  /** The model's logging_config, if it logs requests. */
  logging(model: string): RequestLoggingConfig | undefined;
}

export type { SignatureMap };
