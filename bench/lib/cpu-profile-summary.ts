/**
 * Summarizes a V8 .cpuprofile (from node --cpu-prof): self time grouped by where the code lives
 * (our src/, grpc-js, protobufjs, prom-client, node internals, GC, native, idle), and the top
 * functions by self time.
 *
 *   node --import tsx bench/lib/cpu-profile-summary.ts FILE.cpuprofile [TOP]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
export interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export function groupOf(url: string, fn: string): string {
  if (fn === '(idle)') return 'idle';
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(program)') return 'program (native, not JS)';
  if (url.includes('@grpc/grpc-js')) return 'grpc-js';
  if (url.includes('@grpc/proto-loader') || url.includes('protobufjs')) return 'protobufjs';
  if (url.includes('prom-client')) return 'prom-client';
  if (url.includes('pino')) return 'pino';
  const ours = /\/(?:dist|src)\/(server|shared|cli)\/(.*)$/.exec(url);
  if (ours) return `ours: ${ours[1]}/${ours[2]!.split('/').slice(0, -1).join('/') || '.'}`;
  if (url.startsWith('node:')) return `node: ${url.slice(5).replace(/^internal\/(?:per_context\/)?/, '')}`;
  if (url === '') return `native: ${fn || '(anonymous)'}`;
  return url.replace(/^.*node_modules\//, '');
}

export function summarizeProfile(profile: Profile, top: number): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    self.set(id, (self.get(id) ?? 0) + dt);
    total += dt;
  });
  const groups = new Map<string, number>();
  const fns = new Map<string, number>();
  for (const [id, t] of self) {
    const n = byId.get(id)!;
    const g = groupOf(n.callFrame.url, n.callFrame.functionName);
    groups.set(g, (groups.get(g) ?? 0) + t);
    const name = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/(node_modules|dist|src)\//, '$1/')}:${n.callFrame.lineNumber + 1}`;
    fns.set(name, (fns.get(name) ?? 0) + t);
  }
  const busy = total - (groups.get('idle') ?? 0);
  const pct = (t: number, of: number): string => `${((100 * t) / of).toFixed(1)}%`;
  const lines = [`total ${(total / 1e6).toFixed(2)} s, busy ${(busy / 1e6).toFixed(2)} s`, '', 'by group (share of busy time):'];
  for (const [g, t] of [...groups].filter(([g]) => g !== 'idle').sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pct(t, busy).padStart(6)}  ${g}`);
  lines.push('', 'top functions (self, share of busy time):');
  for (const [f, t] of [...fns].filter(([f]) => !f.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pct(t, busy).padStart(6)}  ${f}`);
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: cpu-profile-summary.ts FILE.cpuprofile [TOP]');
    process.exit(2);
  }
  console.log(summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as Profile, Number(process.argv[3] ?? '25')));
}
