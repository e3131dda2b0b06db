/**
 * Counts a user's API writes from a kube-apiserver audit log (JSON lines). This is the
 * apiserver's own record, independent of the operator's write counter.
 */

export interface AuditWindow {
  readonly user: string;
  /** Inclusive start and exclusive end, in ms since the epoch (requestReceivedTimestamp). */
  readonly fromMs: number;
  readonly toMs: number;
}

export interface WriteCount {
  readonly total: number;
  /** `verb resource[/subresource]` → count, e.g. `patch deployments`, `patch servedmodels/status`. */
  readonly byKind: Readonly<Record<string, number>>;
  /** Time of the last counted write (ms since the epoch), if any. */
  readonly lastMs: number | undefined;
}

interface AuditEvent {
  stage?: string;
  verb?: string;
  user?: { username?: string };
  objectRef?: { resource?: string; subresource?: string };
  requestReceivedTimestamp?: string;
}

const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

/** Writes by `window.user` that completed, grouped by verb and resource. Unparseable lines are skipped. */
export function countWrites(lines: Iterable<string>, window: AuditWindow): WriteCount {
  const byKind: Record<string, number> = {};
  let total = 0;
  let lastMs: number | undefined;
  for (const line of lines) {
    if (!line.includes(window.user)) continue;
    let event: AuditEvent;
    try {
      event = JSON.parse(line) as AuditEvent;
    } catch {
      continue;
    }
    // Each request is logged once per stage; ResponseComplete is the one every request reaches.
    if (event.stage !== 'ResponseComplete' || event.user?.username !== window.user) continue;
    if (!event.verb || !WRITE_VERBS.has(event.verb)) continue;
    const at = Date.parse(event.requestReceivedTimestamp ?? '');
    if (!Number.isFinite(at) || at < window.fromMs || at >= window.toMs) continue;
    const resource = event.objectRef?.subresource ? `${event.objectRef.resource}/${event.objectRef.subresource}` : `${event.objectRef?.resource ?? '?'}`;
    const key = `${event.verb} ${resource}`;
    byKind[key] = (byKind[key] ?? 0) + 1;
    total += 1;
    lastMs = lastMs === undefined ? at : Math.max(lastMs, at);
  }
  return { total, byKind, lastMs };
}
