/**
 * The logging surface core components receive: pino-compatible (object first, then a message in
 * the past tense). main.ts creates the root pino logger and passes children down.
 */
export interface LogFn {
  (obj: object, msg?: string): void;
  (msg: string): void;
}

export interface Logger {
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  debug: LogFn;
  child(bindings: Record<string, unknown>): Logger;
}

/** A logger that drops everything, for callers that do not care. */
export const silentLogger: Logger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  debug: () => undefined,
  child: () => silentLogger,
};
