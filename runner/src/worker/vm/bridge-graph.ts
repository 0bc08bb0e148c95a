/**
 * A bridge's graph-only members (the sheet's §7, D11): a name given to a
 * bridge op that is no VM of the bridge's lab joins the bridge as a name
 * only, as the original records every name. No NIC, no switch port: its
 * membership, its pair partitions and its isolation are kept here and
 * answered by members(), is_partitioned() and is_isolated(). Like routes,
 * this state is not part of lab snapshots.
 */
export class BridgeGraph {
  /** Graph-only member names. */
  readonly members = new Set<string>();
  readonly isolated = new Set<string>();
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

  /** `bridge:reset()`: the partitions go; membership and isolation stay. */
  clearPartitions(): void {
    this.cuts.clear();
    this.oneWay.clear();
  }
}
