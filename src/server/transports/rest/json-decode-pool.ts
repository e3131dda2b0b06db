import type { Worker } from 'node:worker_threads';
import { ServingError } from '../../../shared/errors.js';
import type { SignatureMap } from '../../core/signature.js';
import type { TensorLimits } from '../../servables/tensorflow/codecs/tensor-proto.js';
import { startSiblingWorker } from '../../../shared/sibling-worker.js';
import type { DecodedPredictBody, JsonDecodeRequest, JsonDecodeResponse } from './json-decode-protocol.js';

/**
 * Threads that parse and decode large REST predict bodies. On the event loop, a 3 MB MobileNetV2
 * instance took 25-35 ms to parse and 6-9 ms to decode, and every status and health call waited
 * behind it (docs/benchmarks.md, "REST under load"). Small bodies parse in well under a
 * millisecond and stay on the event loop: a thread's round trip would cost more.
 *
 * Threads start on the first large body. One that dies fails its calls with INTERNAL and is
 * replaced on the next body.
 */
export class JsonDecodePool {
  /** Bodies from this size on are decoded in a thread. */
  static readonly MIN_BODY_BYTES = 64 * 1024;

  private readonly threads: (DecodeThread | undefined)[];
  private closed = false;

  constructor(threads: number) {
    this.threads = Array.from({ length: threads }, () => undefined);
  }

  decode(body: Buffer, signatures: SignatureMap, limits: TensorLimits): Promise<DecodedPredictBody> {
    if (this.closed) return Promise.reject(new ServingError('UNAVAILABLE', 'the server is shutting down'));
    const signatureInputs = Object.fromEntries(Object.entries(signatures).map(([name, signature]) => [name, signature.inputs]));
    return this.leastLoaded().decode(body, signatureInputs, limits);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.threads.filter((thread) => thread !== undefined).map((thread) => thread.close()));
  }

  private leastLoaded(): DecodeThread {
    let best = 0;
    for (let i = 0; i < this.threads.length; i++) {
      const thread = this.threads[i];
      if (thread === undefined || !thread.alive) this.threads[i] = new DecodeThread();
      if (this.threads[i]!.load < this.threads[best]!.load) best = i;
    }
    return this.threads[best]!;
  }
}

interface Pending {
  resolve(result: DecodedPredictBody): void;
  reject(error: Error): void;
}

class DecodeThread {
  private readonly worker: Worker = startSiblingWorker(import.meta.url, 'json-decode-worker', undefined);
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failure: Error | undefined;

  constructor() {
    this.worker.on('message', (response: JsonDecodeResponse) => {
      const pending = this.pending.get(response.id);
      if (!pending) return;
      this.pending.delete(response.id);
      if ('error' in response) pending.reject(new ServingError(response.error.code, response.error.message, { httpStatus: response.error.httpStatus }));
      else pending.resolve({ signatureName: response.signatureName, decoded: response.decoded });
    });
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => this.fail(new Error(`JSON decode thread exited with code ${code}`)));
    // An idle thread does not keep the process alive.
    this.worker.unref();
  }

  get load(): number {
    return this.pending.size;
  }

  get alive(): boolean {
    return this.failure === undefined;
  }

  decode(body: Buffer, signatureInputs: JsonDecodeRequest['signatureInputs'], limits: TensorLimits): Promise<DecodedPredictBody> {
    const id = this.nextId++;
    // Move the body when it owns its memory; otherwise it is copied on the way.
    const { buffer } = body;
    const owned = buffer instanceof ArrayBuffer && body.byteOffset === 0 && body.byteLength === buffer.byteLength;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, body, signatureInputs, limits } satisfies JsonDecodeRequest, owned ? [buffer] : []);
    });
  }

  async close(): Promise<void> {
    this.failure ??= new Error('closed');
    await this.worker.terminate();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const pending of this.pending.values()) pending.reject(new ServingError('INTERNAL', `decoding the request body failed: ${error.message}`));
    this.pending.clear();
  }
}
