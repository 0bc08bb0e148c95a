/**
 * A bridge's graph state (the sheet's §7, D11): a name given to a bridge op
 * that is no VM of the bridge's lab joins the bridge as a name only, as the
 * original records every name. No NIC, no switch port: its membership, its
 * pair partitions and its isolation are kept here and answered by members(),
 * is_partitioned() and is_isolated(); so are the bridge's routes. Lab
 * snapshots keep it (toRecord/load; lab.json: lab-network-json.ts).
 */
export class BridgeGraph {
  /** Graph-only member names. */
  readonly members = new Set<string>();
  readonly isolated = new Set<string>();
  /** `bridge:route()`: names of the bridges it routes to. */
  readonly routes = new Set<string>();
  /** Symmetric pair partitions with at least one graph-only end, as pairKey()s of the ends' keys. */
  private readonly cuts = new Set<string>();
  /** One-way partitions with a graph-only end, as `from\0to` of the ends' keys. */
  private readonly oneWay = new Set<string>();

  /** An end's key in a pair: VMs by their id in the file, names apart (a sub-lab's ghost may be spelled like a VM id). */
  static vmKey(netId: string): string {
    return `vm:${netId}`;
  }

  static nameKey(name: string): string {
    return `name:${name}`;
  }

  /** The key of a pair, whatever its order. */
  static pairKey(a: string, b: string): string {
    return a < b ? `${a}\0${b}` : `${b}\0${a}`;
  }

  partition(a: string, b: string): void {
    this.cuts.add(BridgeGraph.pairKey(a, b));
  }

  unpartition(a: string, b: string): void {
    this.cuts.delete(BridgeGraph.pairKey(a, b));
  }

  /** `partition({from=, to=})` with a graph-only end that is a member: recorded, never seen by is_partitioned. */
  partitionOneWay(from: string, to: string): void {
    this.oneWay.add(`${from}\0${to}`);
  }

  unpartitionOneWay(from: string, to: string): void {
    this.oneWay.delete(`${from}\0${to}`);
  }

  isPartitioned(a: string, b: string): boolean {
    return this.cuts.has(BridgeGraph.pairKey(a, b));
  }

  /** A graph-only member leaves: its membership, isolation and every partition naming it go. */
  forget(name: string): void {
    this.members.delete(name);
    this.isolated.delete(name);
    this.forgetKey(BridgeGraph.nameKey(name));
  }

  /** Every partition naming the end with this key goes (a VM detached from the bridge). */
  forgetKey(key: string): void {
    for (const set of [this.cuts, this.oneWay]) for (const k of [...set]) if (k.split('\0').includes(key)) set.delete(k);
  }

  /** `bridge:reset()`: the partitions go; membership, isolation and routes stay. */
  clearPartitions(): void {
    this.cuts.clear();
    this.oneWay.clear();
  }

  /**
   * The state as lab.json keeps it, VM ends' ids passed through `moveId`
   * (lab.json's ids are relative to the lab); undefined when there is none.
   */
  toRecord(moveId: (id: string) => string): GraphRecord | undefined {
    const ends = (set: Set<string>) => [...set].sort().map((k) => k.split('\0').map((e) => moveKey(e, moveId)) as [string, string]);
    const record: GraphRecord = {
      members: [...this.members].sort(),
      isolated: [...this.isolated].sort(),
      partitions: ends(this.cuts),
      directional_partitions: ends(this.oneWay),
      routes: [...this.routes].sort(),
    };
    return Object.values(record).some((l) => l.length > 0) ? record : undefined;
  }

  /** Replaces the state with a record's (none: empty), VM ends' ids passed through `moveId`. */
  load(record: GraphRecord | undefined, moveId: (id: string) => string): void {
    for (const set of [this.members, this.isolated, this.routes, this.cuts, this.oneWay]) set.clear();
    if (!record) return;
    record.members.forEach((n) => this.members.add(n));
    record.isolated.forEach((n) => this.isolated.add(n));
    record.routes.forEach((n) => this.routes.add(n));
    for (const [a, b] of record.partitions) this.partition(moveKey(a, moveId), moveKey(b, moveId));
    for (const [from, to] of record.directional_partitions) this.partitionOneWay(moveKey(from, moveId), moveKey(to, moveId));
  }
}

/**
 * A bridge's graph state in lab.json. Ends are keys: `vm:<id>` (a VM, its
 * id relative to the lab) or `name:<name>` (a graph-only member).
 */
export interface GraphRecord {
  members: string[];
  isolated: string[];
  /** Symmetric pair partitions. */
  partitions: [string, string][];
  /** One-way partitions, `[from, to]`. */
  directional_partitions: [string, string][];
  routes: string[];
}

const moveKey = (key: string, moveId: (id: string) => string) => (key.startsWith('vm:') ? BridgeGraph.vmKey(moveId(key.slice(3))) : key);
