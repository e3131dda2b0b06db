import type * as grpc from '@grpc/grpc-js';
import { grpcStatusOf, toServingError } from '../../../shared/errors.js';

/** Any error as the gRPC status a caller sees; unexpected ones are INTERNAL. */
export function grpcErrorOf(error: unknown): Partial<grpc.StatusObject> {
  const coded = toServingError(error);
  return { code: grpcStatusOf(coded.code), details: coded.message };
}

type Handler<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>;

/** Adapts an async handler to grpc-js: errors become statuses, never exceptions. */
export function unary<Req, Res>(handler: Handler<Req, Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    // Through a promise so a synchronous throw becomes a status too.
    Promise.resolve(call)
      .then(handler)
      .then(
        (response) => callback(null, response),
        (error: unknown) => callback(grpcErrorOf(error) as grpc.ServiceError),
      );
  };
}
