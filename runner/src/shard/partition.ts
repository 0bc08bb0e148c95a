/**
 * `--shard K/N`: which shard each test file runs in. Pure: the same files,
 * costs and fixtures give the same shards on every machine.
 *
 * Files are placed greedily, longest first, each on the shard it leaves the
 * least loaded (ties: the lower shard). A shard pays a fixture's build once,
 * however many of its files resume it, so placing a file costs its own time
 * plus the fixtures that shard does not hold yet. Placing file by file can
 * scatter a fixture's users early (each looks cheaper on an empty shard), so
 * two more placements are tried, one keeping every group of files that share
 * fixtures together and one keeping together only the groups that fit in an
 * even share; the placement whose longest shard is shortest wins (the first
 * of them on a tie). With every cost 1 and no fixture costs this is a
 * round-robin over the files sorted by key.
 */

export interface ShardFile {
  /** The file's path relative to the project root, forward slashes: what orders and names it. */
  key: string;
  /** Expected time, any unit shared with the fixture costs. */
  cost: number;
  /** The fixtures it resumes, with those they resume in turn. */
  fixtures: readonly string[];
}

interface Shard {
  files: ShardFile[];
  fixtures: Set<string>;
  load: number;
}

const byKey = (a: ShardFile, b: ShardFile) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** The files of each of `count` shards (index 0 is shard 1/N), each sorted by key. */
export function partition(files: readonly ShardFile[], count: number, fixtureCost: ReadonlyMap<string, number> = new Map()): ShardFile[][] {
  const sorted = [...files].sort(byKey);
  const priced = (f: string) => fixtureCost.get(f) ?? 0;
  const singles = sorted.map((f) => [f]);
  const candidates = [singles];
  if (sorted.some((f) => f.fixtures.some((x) => priced(x) > 0))) {
    const groups = fixtureGroups(sorted);
    const total = sorted.reduce((n, f) => n + f.cost, 0) + [...new Set(sorted.flatMap((f) => f.fixtures))].reduce((n, x) => n + priced(x), 0);
    const share = total / count;
    candidates.push(groups, groups.flatMap((g) => (unitCost(g, priced) <= share ? [g] : g.map((f) => [f]))));
  }
  let best: Shard[] | undefined;
  for (const units of candidates) {
    const shards = place(units, count, priced);
    if (!best || longest(shards) < longest(best)) best = shards;
  }
  return best!.map((s) => s.files.sort(byKey));
}

const longest = (shards: Shard[]) => Math.max(...shards.map((s) => s.load));

function unitCost(unit: ShardFile[], priced: (f: string) => number): number {
  const fixtures = new Set(unit.flatMap((f) => f.fixtures));
  return unit.reduce((n, f) => n + f.cost, 0) + [...fixtures].reduce((n, x) => n + priced(x), 0);
}

/** Units (files placed together) longest first, each onto the shard it leaves least loaded. */
function place(units: ShardFile[][], count: number, priced: (f: string) => number): Shard[] {
  const shards: Shard[] = Array.from({ length: count }, () => ({ files: [], fixtures: new Set(), load: 0 }));
  const order = units.map((u) => ({ u, cost: unitCost(u, priced) })).sort((a, b) => b.cost - a.cost || byKey(a.u[0]!, b.u[0]!));
  for (const { u } of order) {
    const fixtures = new Set(u.flatMap((f) => f.fixtures));
    const own = u.reduce((n, f) => n + f.cost, 0);
    let target = shards[0]!;
    let targetLoad = Infinity;
    for (const s of shards) {
      let load = s.load + own;
      for (const x of fixtures) if (!s.fixtures.has(x)) load += priced(x);
      if (load < targetLoad) [target, targetLoad] = [s, load];
    }
    target.files.push(...u);
    fixtures.forEach((x) => target.fixtures.add(x));
    target.load = targetLoad;
  }
  return shards;
}

/** Files joined when they share a fixture (transitively), in key order; a file without fixtures is alone. */
function fixtureGroups(sorted: ShardFile[]): ShardFile[][] {
  const parent = sorted.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
  const firstUser = new Map<string, number>();
  sorted.forEach((f, i) => {
    for (const x of f.fixtures) {
      const j = firstUser.get(x);
      if (j === undefined) firstUser.set(x, i);
      else parent[find(i)] = find(j);
    }
  });
  const groups = new Map<number, ShardFile[]>();
  sorted.forEach((f, i) => {
    const root = find(i);
    const group = groups.get(root);
    if (group) group.push(f);
    else groups.set(root, [f]);
  });
  return [...groups.values()];
}
