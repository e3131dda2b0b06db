/**
 * The writer thread behind DiskWriter: writes received body blocks with plain synchronous calls,
 * so a gigabyte costs 32k write(2) calls here instead of 32k thread-pool jobs on the main thread.
 */
import { writeSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { WRITE_PIECE_BYTES, type DiskWriteRequest, type DiskWriteResponse } from './disk-write-protocol.js';

if (!parentPort) throw new Error('disk-writer-thread must run in a worker thread');
const port = parentPort;

function writePieces(request: DiskWriteRequest): void {
  let position = request.position;
  for (const piece of request.pieces) {
    for (let at = 0; at < piece.length; ) {
      const n = writeSync(request.fd, piece, at, Math.min(WRITE_PIECE_BYTES, piece.length - at), position);
      if (n === 0) throw new Error('the disk accepted no bytes');
      at += n;
      position += n;
    }
  }
}

port.on('message', (request: DiskWriteRequest) => {
  let response: DiskWriteResponse;
  try {
    writePieces(request);
    response = { id: request.id, ok: true };
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    response = { id: request.id, ok: false, code: e.code, message: e.message ?? String(error) };
  }
  port.postMessage(response);
});
