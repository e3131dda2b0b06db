import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { createRequire } from 'node:module';

/** A free TCP port on loopback (bound then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function loadAverages(): string {
  return loadavg()
    .map((v) => v.toFixed(2))
    .join(' / ');
}

/** One line describing the machine and software, for the report. */
export function machineLine(): string {
  const list = cpus();
  const model = list[0]?.model.trim() ?? 'unknown CPU';
  const require = createRequire(import.meta.url);
  const tfjs = (require('@tensorflow/tfjs-node/package.json') as { version: string }).version;
  const grpcJs = (require('@grpc/grpc-js/package.json') as { version: string }).version;
  return `${list.length} cores (${model}), Node ${process.version}, @tensorflow/tfjs-node ${tfjs} on libtensorflow from tensorflow-cpu 2.21, @grpc/grpc-js ${grpcJs}`;
}

export function today(): string {
  return new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
}

/** Busy CPU time of the whole machine so far (all cores, from /proc/stat), ms; NaN elsewhere. */
export function machineBusyMs(): number {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal ...: everything but idle and iowait is busy.
    const busy = cpu.reduce((a, b) => a + b, 0) - (cpu[3] ?? 0) - (cpu[4] ?? 0);
    return (busy * 1000) / 100;
  } catch {
    return Number.NaN;
  }
}
