/**
 * `tensorfleet` entry point: the only place that reads argv and the environment, creates the
 * root logger, clocks and random source, and turns signals into a graceful stop.
 */
import { randomInt } from 'node:crypto';
import { createRootLogger, type Logger } from '../shared/logger.js';
import { toServingError } from '../shared/errors.js';
import { TENSORFLEET_VERSION } from '../shared/version.js';
import { exampleRequest } from '../server/example-request.js';
import { startModelServer } from '../server/model-server.js';
import { defaultShutdownDelaySeconds, OptionsError, parseServeOptions, serveHelp } from '../server/serve-options.js';
import { readFlagFile } from '../server/flag-file.js';
import { cpuQuotaCores } from '../server/servables/tensorflow/cpu-quota.js';
import { parseSessionConfig, withSessionConfig } from '../server/servables/tensorflow/session-config.js';
import { loadTfBinding } from '../server/servables/tensorflow/tf-binding.js';
import { threadEnvOfThisProcess } from '../server/servables/tensorflow/thread-env.js';
import { resolveS3Settings } from '../server/sources/s3/s3-settings.js';
import { OPERATOR_HELP, parseOperatorArgs } from './operator-command.js';

const USAGE = `Usage: tensorfleet <command> [flags]

Commands:
  serve      serve TensorFlow SavedModels over TF Serving's gRPC and REST APIs (like tensorflow_model_server)
  operator   run the Kubernetes operator for ServedModel resources

Run 'tensorfleet <command> --help' for a command's flags.`;

const wantsHelp = (args: readonly string[]): boolean => args.includes('--help') || args.includes('-h');

/** Aborts on the first SIGTERM/SIGINT; a second one exits at once. */
function stopSignal(): AbortSignal {
  const controller = new AbortController();
  const onSignal = (): void => {
    if (controller.signal.aborted) process.exit(1);
    controller.abort();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return controller.signal;
}

/** Math.random is fine for routing splits; seeded from crypto so replicas don't move in step. */
function routingRandom(): () => number {
  randomInt(1); // touch the CSPRNG so a broken entropy source fails at start, not mid-traffic
  return Math.random;
}

async function serve(args: readonly string[]): Promise<number> {
  // TensorFlow's C++ INFO lines would drown our JSON logs; warnings and errors still show.
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '1';
  if (wantsHelp(args)) {
    process.stdout.write(`${serveHelp()}\n`);
    return 0;
  }
  if (args.includes('--version')) {
    process.stdout.write(`${versionText()}\n`);
    return 0;
  }
  const given = parseServeOptions(args);
  const parsed = { ...given, shutdown_delay_seconds: given.shutdown_delay_seconds ?? defaultShutdownDelaySeconds(process.env) };
  const sessionConfigFile = parsed.tensorflow_session_config_file;
  const options = sessionConfigFile === undefined ? parsed : withSessionConfig(parsed, parseSessionConfig(await readFlagFile('tensorflow_session_config_file', sessionConfigFile)));
  const quotaCores = cpuQuotaCores();
  Object.assign(process.env, threadEnvOfThisProcess(options, quotaCores));
  const logger = createRootLogger({ name: 'tensorfleet-serve', level: options.log_level });
  logTensorflowThreads(logger, quotaCores);
  const signal = stopSignal();
  const s3 = resolveS3Settings(options, process.env);
  const server = await startModelServer(options, { logger, now: Date.now, rng: routingRandom(), s3 });
  server
    .whenReady(signal)
    .then(() => {
      logger.info({ grpcPort: server.grpcPort, restPort: server.restPort }, 'all models available');
      if (server.restPort !== undefined) printExamples(server.restPort, server.manager);
    })
    .catch(() => undefined);
  await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  await server.stop();
  return 0;
}

/** What `serve --version` prints, as tensorflow_model_server --version does: the server's and TensorFlow's versions. */
function versionText(): string {
  return `TensorFleet ModelServer: ${TENSORFLEET_VERSION}\nTensorFlow Library: ${loadTfBinding().TF_Version}`;
}

function logTensorflowThreads(logger: Logger, quotaCores: number | undefined): void {
  const { TF_NUM_INTEROP_THREADS: interOp = 'default', TF_NUM_INTRAOP_THREADS: intraOp = 'default' } = process.env;
  logger.info({ interOp: interOp.startsWith('-') ? 'inline' : interOp, intraOp, cpuQuotaCores: quotaCores ?? 'none' }, 'tensorflow thread pools');
}

function printExamples(restPort: number, manager: Awaited<ReturnType<typeof startModelServer>>['manager']): void {
  const lines = ['', 'TensorFleet is serving. Try:'];
  for (const model of manager.modelNames()) {
    lines.push(`  curl -s http://localhost:${restPort}/v1/models/${model}`);
    const handle = manager.acquire(model);
    try {
      for (const [name, signature] of Object.entries(handle.servable.signatures)) {
        const example = exampleRequest(restPort, model, name, signature);
        if (example) {
          lines.push(`  ${example}`);
          break;
        }
      }
    } finally {
      handle.release();
    }
  }
  process.stderr.write(`${lines.join('\n')}\n\n`);
}

async function operator(args: readonly string[]): Promise<number> {
  if (wantsHelp(args)) {
    process.stdout.write(`${OPERATOR_HELP}\n`);
    return 0;
  }
  const { logLevel, ...options } = parseOperatorArgs(args);
  const logger = createRootLogger({ name: 'tensorfleet-operator', level: logLevel });
  const { runOperator } = await import('../operator/main.js');
  await runOperator({ ...options, logger }, stopSignal());
  return 0;
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'operator':
      return operator(rest);
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`unknown command "${command}"\n\n${USAGE}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof OptionsError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    const coded = toServingError(error);
    process.stderr.write(`tensorfleet: ${coded.message}\n`);
    process.exit(1);
  },
);
