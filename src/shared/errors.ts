/**
 * Coded errors. Every error that reaches a caller carries one of these codes; the transports map
 * a code to a gRPC status and an HTTP status here and nowhere else.
 */
export const ERROR_CODES = {
  CANCELLED: { grpc: 1, http: 499 },
  UNKNOWN: { grpc: 2, http: 500 },
  INVALID_ARGUMENT: { grpc: 3, http: 400 },
  DEADLINE_EXCEEDED: { grpc: 4, http: 504 },
  NOT_FOUND: { grpc: 5, http: 404 },
  ALREADY_EXISTS: { grpc: 6, http: 409 },
  PERMISSION_DENIED: { grpc: 7, http: 403 },
  RESOURCE_EXHAUSTED: { grpc: 8, http: 429 },
  FAILED_PRECONDITION: { grpc: 9, http: 400 },
  ABORTED: { grpc: 10, http: 409 },
  OUT_OF_RANGE: { grpc: 11, http: 400 },
  UNIMPLEMENTED: { grpc: 12, http: 501 },
  INTERNAL: { grpc: 13, http: 500 },
  UNAVAILABLE: { grpc: 14, http: 503 },
  DATA_LOSS: { grpc: 15, http: 500 },
  UNAUTHENTICATED: { grpc: 16, http: 401 },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class ServingError extends Error {
  override readonly name = 'ServingError';
  /** An HTTP status more precise than the code's usual one (413 for an oversize body). */
  readonly httpStatus: number | undefined;
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown; httpStatus?: number },
  ) {
    super(message, options);
    this.httpStatus = options?.httpStatus;
  }
}

export const invalidArgument = (message: string): ServingError => new ServingError('INVALID_ARGUMENT', message);
export const notFound = (message: string): ServingError => new ServingError('NOT_FOUND', message);

/** Any thrown value as a ServingError; unexpected errors become INTERNAL, keeping the cause. */
export function toServingError(error: unknown): ServingError {
  if (error instanceof ServingError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ServingError('INTERNAL', message, { cause: error });
}

export const grpcStatusOf = (code: ErrorCode): number => ERROR_CODES[code].grpc;
export const httpStatusOf = (code: ErrorCode): number => ERROR_CODES[code].http;
