import type { V1Service, V1ServicePort } from '@kubernetes/client-node';
import type { ServedModel } from '../../api/served-model-types.js';
import { headlessServiceName, ownedMeta, selectorLabels } from './owned-meta.js';

export const GRPC_PORT = 8500;
export const HTTP_PORT = 8501;

const ports: V1ServicePort[] = [
  { name: 'grpc', port: GRPC_PORT, targetPort: 'grpc', protocol: 'TCP', appProtocol: 'grpc' },
  { name: 'http', port: HTTP_PORT, targetPort: 'http', protocol: 'TCP', appProtocol: 'http' },
];

/** ClusterIP Service `<name>`: one stable address for gRPC and REST. */
export function buildService(sm: ServedModel): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: ownedMeta(sm, sm.metadata.name),
    spec: { type: 'ClusterIP', selector: selectorLabels(sm), ports },
  };
}

/**
 * Headless Service `<name>-headless`: gRPC keeps connections open for long, so a ClusterIP pins a
 * client to one pod; DNS of every ready pod lets clients balance themselves.
 */
export function buildHeadlessService(sm: ServedModel): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: ownedMeta(sm, headlessServiceName(sm)),
    spec: { clusterIP: 'None', selector: selectorLabels(sm), ports },
  };
}
