/** Messages between DiskWriter (main thread) and its writer thread. */

export type DiskWriteRequest =
  /** Write `pieces`, one after another, into the open file `fd` from `position` on. */
  | { readonly kind: 'write'; readonly id: number; readonly fd: number; readonly position: number; readonly pieces: readonly Uint8Array[] }
  /** Create (or truncate) the file `path` holding `data`. */
  | { readonly kind: 'create'; readonly id: number; readonly path: string; readonly data: Uint8Array };

export type DiskWriteResponse =
  | { readonly id: number; readonly ok: true }
  | { readonly id: number; readonly ok: false; readonly code: string | undefined; readonly message: string };

/**
 * Bytes per write call. A large write makes the kernel allocate large page-cache folios, and on
 * VMs that hand free memory back to the host (this one) those must be faulted in again: the
 * 1 GiB sync took 2.6-5 s in most runs with 1 MiB writes, 1.6-2.1 s in every run with 32 KiB
 * ones (s5cmd's size). Smaller writes cost more calls; larger ones brought the slow runs back.
 */
export const WRITE_PIECE_BYTES = 32 * 1024;
