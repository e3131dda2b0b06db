import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/** Paths pino blanks out wherever they appear in a logged object. */
const REDACTED_PATHS = [
  '*.secretAccessKey',
  '*.sessionToken',
  '*.accessKeyId',
  '*.password',
  '*.token',
  '*.authorization',
  'credentials',
  '*.credentials',
  'headers.authorization',
];

/** The one root logger of a binary; components take children of it. */
export function createRootLogger(options: { level: string; name: string; destination?: NodeJS.WritableStream }): Logger {
  const config: LoggerOptions = {
    name: options.name,
    level: options.level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return options.destination ? pino(config, options.destination) : pino(config);
}
