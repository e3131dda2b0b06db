import { Worker } from 'node:worker_threads';

/**
 * Starts a worker thread running the module `name` (without extension) next to the module whose
 * `import.meta.url` is `from`. Under vitest/tsx the sources are TypeScript; compiled builds run
 * the .js beside the caller.
 */
export function startSiblingWorker(from: string, name: string, workerData: unknown): Worker {
  const fromSource = from.endsWith('.ts');
  const url = new URL(`./${name}${fromSource ? '.ts' : '.js'}`, from);
  return fromSource
    ? // Node 20 workers ignore --import, so register tsx inside the thread before importing.
      new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); })`, {
        eval: true,
        workerData,
      })
    : new Worker(url, { workerData });
}
