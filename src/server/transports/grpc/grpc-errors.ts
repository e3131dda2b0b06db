import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { ServingError, grpcStatusOf, toServingError } from '../../../shared/errors.js';
import { UnreadableRequest } from './unreadable-request.js';

/** A status for the caller; `unexpected` keeps an error that was no ServingError, for the log. */
type StatusWithCause = Partial<grpc.StatusObject> & { unexpected?: unknown };

/** Any error as the gRPC status a caller sees; unexpected ones are INTERNAL. */
export function grpcErrorOf(error: unknown): StatusWithCause {
  const coded = toServingError(error);
  const status: StatusWithCause = { code: grpcStatusOf(coded.code), details: coded.message };
  if (!(error instanceof ServingError)) Object.defineProperty(status, 'unexpected', { value: error, enumerable: false });
  return status;
}

/**
 * Logs, with its stack, every error a handler did not expect (a bug of ours, answered INTERNAL):
 * the caller sees only its message.
 */
export function loggingUnexpectedErrors(service: string, impl: grpc.UntypedServiceImplementation, logger: Logger): grpc.UntypedServiceImplementation {
  const wrapped: grpc.UntypedServiceImplementation = {};
  for (const [method, handler] of Object.entries(impl)) {
    const unaryHandler = handler as grpc.handleUnaryCall<unknown, unknown>;
    wrapped[method] = ((call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) =>
      unaryHandler(call, (error, ...rest) => {
        const unexpected = error === null ? undefined : (error as StatusWithCause).unexpected;
        if (unexpected !== undefined) logger.error({ err: unexpected, method: `${service}/${method}` }, 'call failed unexpectedly');
        callback(error, ...rest);
      })) as grpc.UntypedHandleCall;
  }
  return wrapped;
}

type Handler<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>;

/** Adapts an async handler to grpc-js: errors become statuses, never exceptions. */
export function unary<Req, Res>(handler: Handler<Req, Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    // Through a promise so a synchronous throw becomes a status too.
    Promise.resolve(call)
      .then((readable) => {
        if (readable.request instanceof UnreadableRequest) throw readable.request.error;
        return handler(readable);
      })
      .then(
        (response) => callback(null, response),
        (error: unknown) => callback(grpcErrorOf(error) as grpc.ServiceError),
      );
  };
}
