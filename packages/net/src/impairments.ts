/**
 * What a bridge does to the frames crossing it, as plain data: written into
 * lab.json, sent to the switch, and re-applied on restore. Endpoints are the
 * switch's port ids (the VMs' ids in a LabNetwork).
 */

/** One direction of traffic: frames sent by `from` to `to`. */
export interface Direction {
  from: string;
  to: string;
}

/** Added one-way delay of the frames matching from/to (absent = any port). Matching rules add up. */
export interface LatencyRule {
  from?: string;
  to?: string;
  ms: number;
}

/** Probability that a matching frame is lost. Matching rules combine as independent losses. */
export interface DropRule {
  from?: string;
  to?: string;
  p: number;
}

export interface Impairments {
  /** Directed pairs whose frames are dropped; `partition(a, b)` is a→b and b→a. Kept sorted and unique. */
  partitions: Direction[];
  /** Ports cut from every other port, both ways. Sorted, unique. */
  isolated: string[];
  latency: LatencyRule[];
  drop: DropRule[];
  /** `partition_all()`: every pair of ports is cut, ports added later too (absent: off). */
  cutAll?: true;
}

/** Everything a switch needs to decide a frame's fate. */
export interface SwitchPolicy extends Impairments {
  /** Ports whose cable is out (`detach`): nothing in, nothing out. */
  detached: string[];
  /** Seed of the drop-rate generator; the generator restarts from it whenever the drop rules change. */
  seed: number;
}

export function emptyImpairments(): Impairments {
  return { partitions: [], isolated: [], latency: [], drop: [] };
}

export function cloneImpairments(i: Impairments): Impairments {
  return {
    partitions: i.partitions.map((d) => ({ ...d })),
    isolated: [...i.isolated],
    latency: i.latency.map((r) => ({ ...r })),
    drop: i.drop.map((r) => ({ ...r })),
    ...(i.cutAll ? { cutAll: true as const } : {}),
  };
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const sameEnds = (a: { from?: string; to?: string }, b: { from?: string; to?: string }) => a.from === b.from && a.to === b.to;

export function addPartition(imp: Impairments, d: Direction): void {
  if (imp.partitions.some((p) => sameEnds(p, d))) return;
  imp.partitions.push({ from: d.from, to: d.to });
  imp.partitions.sort((x, y) => cmp(x.from, y.from) || cmp(x.to, y.to));
}

/** True when the direction was partitioned. */
export function removePartition(imp: Impairments, d: Direction): boolean {
  const n = imp.partitions.length;
  imp.partitions = imp.partitions.filter((p) => !sameEnds(p, d));
  return imp.partitions.length !== n;
}

export function setIsolated(imp: Impairments, port: string, isolated: boolean): void {
  const set = new Set(imp.isolated);
  if (isolated) set.add(port);
  else set.delete(port);
  imp.isolated = [...set].sort(cmp);
}

/** Sets (replaces) the rule for these ends; 0 ms removes it. */
export function setLatency(imp: Impairments, rule: LatencyRule): void {
  imp.latency = imp.latency.filter((r) => !sameEnds(r, rule));
  if (rule.ms > 0) imp.latency.push(clean(rule, 'ms', rule.ms));
}

/** Sets (replaces) the rule for these ends; 0 removes it. */
export function setDrop(imp: Impairments, rule: DropRule): void {
  imp.drop = imp.drop.filter((r) => !sameEnds(r, rule));
  if (rule.p > 0) imp.drop.push(clean(rule, 'p', rule.p));
}

function clean<K extends 'ms' | 'p'>(rule: { from?: string; to?: string }, key: K, value: number): { from?: string; to?: string } & Record<K, number> {
  return { ...(rule.from !== undefined ? { from: rule.from } : {}), ...(rule.to !== undefined ? { to: rule.to } : {}), [key]: value } as never;
}

/** Removes every rule and entry that names `port` (it left the bridge for good). */
export function forgetPort(imp: Impairments, port: string): void {
  imp.partitions = imp.partitions.filter((p) => p.from !== port && p.to !== port);
  imp.isolated = imp.isolated.filter((p) => p !== port);
  imp.latency = imp.latency.filter((r) => r.from !== port && r.to !== port);
  imp.drop = imp.drop.filter((r) => r.from !== port && r.to !== port);
}

export type BlockReason = 'detached' | 'isolated' | 'partitioned';

/** The fate of frames from one port to another under a policy. */
export interface Verdict {
  block: BlockReason | undefined;
  delayMs: number;
  dropP: number;
}

const matches = (r: { from?: string; to?: string }, from: string, to: string) =>
  (r.from === undefined || r.from === from) && (r.to === undefined || r.to === to);

/** A policy with per-pair verdicts computed once and cached. */
export class CompiledPolicy {
  private readonly cache = new Map<string, Verdict>();
  private readonly detached: Set<string>;
  private readonly isolated: Set<string>;
  private readonly partitions: Set<string>;

  constructor(readonly policy: SwitchPolicy) {
    this.detached = new Set(policy.detached);
    this.isolated = new Set(policy.isolated);
    this.partitions = new Set(policy.partitions.map((p) => `${p.from}\0${p.to}`));
  }

  verdict(from: string, to: string): Verdict {
    const key = `${from}\0${to}`;
    let v = this.cache.get(key);
    if (!v) {
      const block: BlockReason | undefined =
        this.detached.has(from) || this.detached.has(to) ? 'detached'
          : this.isolated.has(from) || this.isolated.has(to) ? 'isolated'
            : this.partitions.has(key) || (this.policy.cutAll === true && from !== to) ? 'partitioned' : undefined;
      let delayMs = 0;
      for (const r of this.policy.latency) if (matches(r, from, to)) delayMs += r.ms;
      let keep = 1;
      for (const r of this.policy.drop) if (matches(r, from, to)) keep *= 1 - r.p;
      v = { block, delayMs, dropP: 1 - keep };
      this.cache.set(key, v);
    }
    return v;
  }
}

/** Throws naming the field when `p` is not a SwitchPolicy (it crosses threads and files). */
export function checkPolicy(p: SwitchPolicy): void {
  const strings = (xs: unknown, what: string) => {
    if (!Array.isArray(xs) || !xs.every((x) => typeof x === 'string')) throw new Error(`switch policy: ${what} must be a list of port ids`);
  };
  const ends = (r: { from?: unknown; to?: unknown }, what: string) => {
    if ((r.from !== undefined && typeof r.from !== 'string') || (r.to !== undefined && typeof r.to !== 'string')) {
      throw new Error(`switch policy: ${what} has a from/to that is not a port id: ${JSON.stringify(r)}`);
    }
  };
  strings(p.detached, 'detached');
  strings(p.isolated, 'isolated');
  if (!Array.isArray(p.partitions)) throw new Error('switch policy: partitions must be a list');
  for (const d of p.partitions) {
    if (typeof d?.from !== 'string' || typeof d?.to !== 'string') throw new Error(`switch policy: partition ${JSON.stringify(d)} needs from and to`);
  }
  for (const r of p.latency ?? []) {
    ends(r, 'a latency rule');
    if (!(Number.isFinite(r.ms) && r.ms >= 0)) throw new Error(`switch policy: latency must be a number of ms >= 0, got ${JSON.stringify(r.ms)}`);
  }
  for (const r of p.drop ?? []) {
    ends(r, 'a drop rule');
    if (!(typeof r.p === 'number' && r.p >= 0 && r.p <= 1)) throw new Error(`switch policy: drop rate must be from 0 to 1, got ${JSON.stringify(r.p)}`);
  }
  if (p.cutAll !== undefined && p.cutAll !== true) throw new Error(`switch policy: cutAll must be true or absent, got ${JSON.stringify(p.cutAll)}`);
  if (!Number.isInteger(p.seed)) throw new Error(`switch policy: seed must be an integer, got ${JSON.stringify(p.seed)}`);
}
