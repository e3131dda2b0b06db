/** gRPC answers for handler errors, and the log line an unexpected one (a bug of ours) leaves. */
import type * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { invalidArgument } from '../../../../../src/shared/errors.js';
import { loggingUnexpectedErrors, unary } from '../../../../../src/server/transports/grpc/grpc-errors.js';

function call(impl: grpc.UntypedServiceImplementation, method: string): Promise<{ error: grpc.ServiceError | null; logged: Record<string, unknown>[] }> {
  return new Promise((resolve) => {
    const logged: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => logged.push(JSON.parse(line) as Record<string, unknown>) });
    const handler = loggingUnexpectedErrors('Svc', impl, logger)[method] as grpc.handleUnaryCall<unknown, unknown>;
    handler({ request: {} } as grpc.ServerUnaryCall<unknown, unknown>, (error) => resolve({ error: error as grpc.ServiceError | null, logged }));
  });
}

describe('loggingUnexpectedErrors', () => {
  const impl = {
    Refused: unary(() => Promise.reject(invalidArgument('bad input'))),
    Broken: unary(() => Promise.reject(new TypeError('x is undefined'))),
    Fine: unary(() => Promise.resolve({})),
  };

  it('logs an unexpected error with its stack, and answers INTERNAL with its message only', async () => {
    const { error, logged } = await call(impl, 'Broken');
    expect(error).toMatchObject({ code: 13, details: 'x is undefined' });
    expect(Object.keys(error!)).toEqual(['code', 'details']);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: 50, msg: 'call failed unexpectedly', method: 'Svc/Broken', err: { type: 'TypeError', message: 'x is undefined', stack: expect.stringContaining('TypeError: x is undefined') as unknown } });
  });

  it('logs nothing for a coded error or a success', async () => {
    expect(await call(impl, 'Refused')).toMatchObject({ error: { code: 3, details: 'bad input' }, logged: [] });
    expect(await call(impl, 'Fine')).toEqual({ error: null, logged: [] });
  });
});
