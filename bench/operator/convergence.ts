/** Which ServedModels are reconciled: status observed the latest generation and every owned object exists. */

export interface Named {
  readonly metadata?: { readonly name?: string; readonly generation?: number; readonly labels?: Readonly<Record<string, string>> };
  readonly status?: { readonly observedGeneration?: number };
}

export interface OwnedLists {
  readonly deployments: readonly Named[];
  readonly services: readonly Named[];
  readonly configMaps: readonly Named[];
}

const names = (items: readonly Named[]): Set<string> => new Set(items.map((i) => i.metadata?.name ?? ''));

/** Names of the converged ServedModels among `servedModels` (owned objects are named after the model, as the operator names them). */
export function convergedNames(servedModels: readonly Named[], owned: OwnedLists): Set<string> {
  const deployments = names(owned.deployments);
  const services = names(owned.services);
  const configMaps = names(owned.configMaps);
  const done = new Set<string>();
  for (const sm of servedModels) {
    const name = sm.metadata?.name;
    if (!name || sm.metadata?.generation === undefined) continue;
    if (sm.status?.observedGeneration !== sm.metadata.generation) continue;
    if (deployments.has(name) && services.has(name) && services.has(`${name}-headless`) && configMaps.has(`${name}-models`)) done.add(name);
  }
  return done;
}
