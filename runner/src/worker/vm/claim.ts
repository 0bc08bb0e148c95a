/**
 * `provium:claim({memory=, cpus=})`: a file reserves its resources up front in
 * one acquisition; its VMs then boot on that reservation instead of waiting in
 * the shared pool again. The VM sessions see one HostServices that routes
 * acquire/release to the claim once there is one.
 */
import type { MessagePort } from 'node:worker_threads';
import type { FixtureEntry, HostServices, PreparedProfile, Resources, SnapshotTemplateInfo } from '@provium/types';
import { ResourcePool, formatResources, type Lease } from '../../host/pool.js';

export class ClaimingHost implements HostServices {
  private claimPool: ResourcePool | undefined;
  private readonly leases = new Map<number, Lease>();
  private nextLease = -1; // negative ids: leases of the claim, never sent to the main thread

  constructor(
    private readonly host: HostServices,
    private readonly file: string,
    /** Awaits a wait in the shared pool: its time is not charged to the file's timeout. */
    private readonly queued: <T>(work: Promise<T>) => Promise<T>,
  ) {}

  get claimed(): boolean {
    return this.claimPool !== undefined;
  }

  /** Takes `wants` from the shared pool for the whole file; returns the lease to give back at file end. */
  async claim(wants: Resources): Promise<number> {
    if (this.claimPool) throw new Error(`${this.file} already has a claim: one claim per file`);
    const id = await this.queued(this.host.acquire(`claim of ${this.file}`, wants));
    this.claimPool = new ResourcePool({ ...wants, origin: `provium:claim() of ${this.file}` });
    return id;
  }

  prepareProfile(name: string): Promise<PreparedProfile> {
    return this.host.prepareProfile(name);
  }

  snapshotTemplate(path: string): Promise<SnapshotTemplateInfo> {
    return this.host.snapshotTemplate(path);
  }

  fixture(name: string, kind: 'vm' | 'lab'): Promise<FixtureEntry> {
    return this.host.fixture(name, kind);
  }

  cachedFixtures(file: string): Promise<FixtureEntry[]> {
    return this.host.cachedFixtures(file);
  }

  netConnect(port: MessagePort): Promise<void> {
    return this.host.netConnect(port);
  }

  diskConnect(port: MessagePort): Promise<void> {
    return this.host.diskConnect(port);
  }

  async acquire(owner: string, wants: Resources): Promise<number> {
    if (!this.claimPool) return this.queued(this.host.acquire(owner, wants));
    // Only this file releases its claim's leases: a boot that does not fit now never will.
    const left = this.claimPool.available();
    if (wants.memory > left.memory || wants.cpus > left.cpus) {
      const { limits } = this.claimPool;
      const used = { memory: limits.memory - left.memory, cpus: limits.cpus - left.cpus };
      throw new Error(
        `${owner} needs ${formatResources(wants)}, but the file's claim is ${formatResources(limits)} with ${formatResources(used)} in use; ` +
          'raise provium:claim{...} (a boot takes its VM\'s memory and CPUs), or shut a VM down first',
      );
    }
    const lease = await this.claimPool.acquire(wants, owner);
    const id = this.nextLease--;
    this.leases.set(id, lease);
    return id;
  }

  async release(leaseId: number): Promise<void> {
    const local = this.leases.get(leaseId);
    if (!local) return this.host.release(leaseId);
    local.release();
    this.leases.delete(leaseId);
  }

  qemuStarted(info: { pid: number; runDir: string; vm: string }): Promise<void> {
    return this.host.qemuStarted(info);
  }

  qemuEnded(pid: number): Promise<void> {
    return this.host.qemuEnded(pid);
  }
}
