/**
 * The writer thread behind DiskWriter: writes received bodies with plain synchronous calls, so a
 * gigabyte costs 32k write(2) calls here instead of 32k thread-pool jobs on the main thread, and a
 * small file one message instead of three (open, write, close).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { WRITE_PIECE_BYTES, type DiskWriteRequest, type DiskWriteResponse } from './disk-write-protocol.js';

if (!parentPort) throw new Error('disk-writer-thread must run in a worker thread');
const port = parentPort;

/** Writes `pieces` at `position` in calls of WRITE_PIECE_BYTES, retrying short writes. */
function writePieces(fd: number, pieces: readonly Uint8Array[], position: number): void {
  for (const piece of pieces) {
    for (let at = 0; at < piece.length; ) {
      const n = writeSync(fd, piece, at, Math.min(WRITE_PIECE_BYTES, piece.length - at), position);
      if (n === 0) throw new Error('the disk accepted no bytes');
      at += n;
      position += n;
    }
  }
}

function handle(request: DiskWriteRequest): void {
  if (request.kind === 'write') return writePieces(request.fd, request.pieces, request.position);
  const fd = openSync(request.path, 'w');
  try {
    writePieces(fd, [request.data], 0);
  } finally {
    closeSync(fd);
  }
}

port.on('message', (request: DiskWriteRequest) => {
  let response: DiskWriteResponse;
  try {
    handle(request);
    response = { id: request.id, ok: true };
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    response = { id: request.id, ok: false, code: e.code, message: e.message ?? String(error) };
  }
  port.postMessage(response);
});
