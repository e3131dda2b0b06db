import type { ServiceDefinition } from '@grpc/grpc-js';
import { ServingError } from '../../../shared/errors.js';

/**
 * A request whose bytes are no valid message of the method's type. grpc-js answers a throwing
 * deserializer with INTERNAL "Error deserializing request" and drops the reason; our
 * deserializers return this instead, and `unary` answers with the same code plus the reason.
 */
export class UnreadableRequest {
  constructor(readonly error: ServingError) {}
}

/**
 * `service` with every request deserializer made total: bytes it cannot read become an
 * UnreadableRequest naming the method and the problem ("truncated message", "invalid wire type 7
 * at offset 3"). INTERNAL, as every gRPC implementation (and TF Serving) answers unparsable requests.
 */
export function withUnreadableRequestsNamed(service: ServiceDefinition): ServiceDefinition {
  const named: Record<string, ServiceDefinition[string]> = {};
  for (const [method, definition] of Object.entries(service)) {
    const deserialize = definition.requestDeserialize;
    named[method] = {
      ...definition,
      requestDeserialize: (bytes: Buffer): unknown => {
        try {
          return deserialize(bytes) as unknown;
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          return new UnreadableRequest(new ServingError('INTERNAL', `Error deserializing request: the ${method} request is not a valid protobuf message: ${reason}`));
        }
      },
    };
  }
  return named;
}
