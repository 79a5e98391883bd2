/**
 * Summarizes a V8 .cpuprofile (from `node --cpu-prof --import tsx …`): the functions with
 * the most self time, and the most inclusive time, so a slow benchmark row can be explained.
 *
 *   node --import tsx bench/profile-top.ts <file.cpuprofile> [--top 25] [--filter src/]
 */
import { readFileSync } from 'node:fs';
import { TsxSourceMaps } from './lib/tsx-source-map.ts';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--'));
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
if (!file) {
  console.error('usage: bench/profile-top.ts <file.cpuprofile> [--top N] [--filter text]');
  process.exit(2);
}
const top = Number(option('--top') ?? 25);
const only = option('--filter');
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;

// Self time per node: each sample's delta belongs to the node that was on top of the stack.
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => {
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const maps = new TsxSourceMaps();
const label = (f: CallFrame): string => {
  const path = f.url.replace(/^file:\/\//, '');
  const where = path.replace(`${process.cwd()}/`, '');
  const source = path.endsWith('.ts') ? maps.locate(path, f.lineNumber, f.columnNumber) : undefined;
  if (!source) return `${f.functionName || '(anonymous)'} ${where}:${f.lineNumber + 1}`;
  return `${f.functionName || source.text.slice(0, 50)} ${where}:${source.line}`;
};

const self = new Map<string, number>();
const inclusive = new Map<string, number>();
for (const [id, us] of selfUs) {
  const node = byId.get(id);
  if (!node) continue;
  const key = label(node.callFrame);
  self.set(key, (self.get(key) ?? 0) + us);
  // inclusive: every distinct frame on the stack gets the sample once (recursion counted once)
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const frame = byId.get(cur);
    if (!frame) break;
    const k = label(frame.callFrame);
    if (seen.has(k)) continue;
    seen.add(k);
    inclusive.set(k, (inclusive.get(k) ?? 0) + us);
  }
}

const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const print = (title: string, table: Map<string, number>): void => {
  console.log(`\n${title} (total ${(total / 1000).toFixed(0)} ms)`);
  [...table]
    .filter(([k]) => only === undefined || k.includes(only))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .forEach(([k, us]) => {
      console.log(
        `${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`,
      );
    });
};
print('self time', self);
print('inclusive time', inclusive);
