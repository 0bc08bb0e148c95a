/**
 * The main thread's HostServices: what every worker of a run shares. Each file
 * gets its own view (FileHost) so that whatever a file still holds when it
 * ends — pool leases, QEMU processes of a terminated worker — is given back
 * or killed, whatever way the file ended.
 */
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { HostServices, PreparedProfile, Resources, RunEvent, SnapshotTemplateInfo } from '@provium/types';
import type { FixtureManager } from '../fixtures/manager.js';
import { TemplateStore } from '../fixtures/templates.js';
import type { ResolvedConfig } from '../config/load.js';
import { ResourcePool, poolLimits, type Lease, type PoolOptions } from './pool.js';

type QemuDriver = typeof import('@provium/qemu');

export interface FileHost extends HostServices {
  /** `--keep-on-failure`: this QEMU outlives its file (it ends when provium exits). */
  keep(pid: number): void;
  /** Releases the file's leases and kills its QEMU processes that are still alive, except kept ones. */
  dispose(): void;
}

/** What the command line decides for the run's host. */
export interface HostOptions {
  pool?: PoolOptions;
  /** `--no-build`: profiles' `build` commands do not run; their last outputs are used. */
  skipBuild?: boolean;
}

export class MainHost {
  private readonly profiles = new Map<string, Promise<PreparedProfile>>();
  private vmSupport: Promise<{ qemu: QemuDriver; pool: ResourcePool }> | undefined;
  private uninstallCleanup: (() => void) | undefined;
  /** The QEMU driver, once vms() has loaded it. */
  private driver: QemuDriver | undefined;

  constructor(
    private readonly config: ResolvedConfig,
    private readonly options: HostOptions,
    /** Progress of slow one-off work (building an image), for a status line. */
    private readonly progress: (message: string) => void,
  ) {}

  /**
   * The QEMU driver, the pool and the cleanup handlers, set up when the first
   * file asks for a VM (a pure-Lua run never loads them). Run directories left
   * by a provium that died are swept first.
   */
  private vms(): Promise<{ qemu: QemuDriver; pool: ResourcePool }> {
    this.vmSupport ??= import('@provium/qemu').then((qemu) => {
      this.driver = qemu;
      qemu.sweepStaleRunDirs();
      this.uninstallCleanup = qemu.installCleanupHandlers();
      return { qemu, pool: new ResourcePool(poolLimits(qemu.detectAccel(), this.options.pool)) };
    });
    return this.vmSupport;
  }

  /**
   * Ends what the run left: QEMUs the workers started ahead of time (spares,
   * dying with their threads) and their run dirs; then removes the exit and
   * signal handlers installed for VMs.
   */
  close(): void {
    this.driver?.killAllSync();
    this.uninstallCleanup?.();
    this.templateStore?.dispose();
    void this.netService?.then((s) => s.stop()).catch(() => {});
    void this.diskService?.then((s) => s.stop()).catch(() => {});
  }

  /** Builds (at most once per run) and resolves a profile. */
  prepareProfile(name: string): Promise<PreparedProfile> {
    let p = this.profiles.get(name);
    if (!p) {
      const source = this.config.file ? { file: this.config.file, toml: this.config.toml } : undefined;
      p = this.vms()
        .then(() => import('@provium/image'))
        .then(({ resolveProfile }) => resolveProfile(name, source, { cacheDir: this.config.cacheDir, onProgress: this.progress, skipBuild: this.options.skipBuild }))
        .then(
        ({ name: n, kernel, bzImage, initrd, cmdline, tcgCmdline, memory, cpus, disk, identity }) => ({ name: n, kernel, ...(bzImage ? { bzImage } : {}), initrd, cmdline, ...(tcgCmdline ? { tcgCmdline } : {}), memory, cpus, ...(disk ? { disk } : {}), identity }),
      );
      this.profiles.set(name, p);
    }
    return p;
  }

  private diskService: Promise<import('@provium/disk').DiskService> | undefined;

  /** The run's disk thread (mediated disks), started when a file first boots one. */
  private disk(): Promise<import('@provium/disk').DiskService> {
    this.diskService ??= import('@provium/disk').then(({ DiskService }) => DiskService.start());
    return this.diskService;
  }

  private netService: Promise<import('@provium/net').NetService> | undefined;

  /** The run's network thread (bridges' switches), started when a file first creates a bridge. */
  private net(): Promise<import('@provium/net').NetService> {
    this.netService ??= import('@provium/net').then(({ NetService }) => NetService.start());
    return this.netService;
  }

  /** Starts the network thread now (a failure is reported to the file that needs it). */
  prewarmNetwork(): void {
    this.net().catch(() => {});
  }

  /** Fixture resolution for the files of this run (set by commands that run fixtures). */
  fixtures: FixtureManager | undefined;
  private templateStore: TemplateStore | undefined;

  /** Unpacks a snapshot file once per run into the template every restore of it maps. */
  async snapshotTemplate(file: string): Promise<SnapshotTemplateInfo> {
    if (!this.templateStore) {
      const { cacheRoot } = await import('../fixtures/cache-paths.js');
      this.templateStore ??= new TemplateStore(
        async () => (await this.vms()).qemu, this.runtimeRoot(), this.fixtures?.dir, path.join(cacheRoot(this.config), 'templates'),
        async (profile) => (await this.prepareProfile(profile)).disk,
      );
    }
    return this.templateStore.get(file);
  }

  private runtimeRoot(): string {
    return path.join(tmpdir(), `provium-run-${process.getuid?.() ?? 0}`);
  }

  /**
   * Each file's view of the services. `build` marks a fixture builder: its
   * VMs take no resources from the pool (the file that waits for the fixture
   * may hold them: a build must never wait for its own requester), and
   * `chain` names the fixtures being built that led to it.
   */
  forFile(file: string, emit: (e: RunEvent) => void, build?: { chain: string[] }, queue?: { pause(): void; resume(): void }): FileHost {
    const leases = new Map<number, Lease>();
    const qemus = new Set<number>();
    // A file that ends while it still waits in the pool must not be granted a lease later.
    const ended = new AbortController();
    let nextLease = 1;
    return {
      prepareProfile: (name) => this.prepareProfile(name),
      snapshotTemplate: (p) => this.snapshotTemplate(p),
      netConnect: async (port) => (await this.net()).adopt(port),
      diskConnect: async (port) => (await this.disk()).adopt(port),
      fixture: (name, kind) => {
        if (!this.fixtures) return Promise.reject(new Error(`fixtures are not available in this command (asked for "${name}")`));
        return this.fixtures.ensure(name, kind, file, build?.chain ?? []);
      },
      cachedFixtures: async (testFile) => (build || !this.fixtures ? [] : this.fixtures.cachedFor(testFile)),
      acquire: async (owner: string, wants: Resources) => {
        const { pool } = await this.vms();
        if (build) return nextLease++;
        queue?.pause();
        const lease = await pool
          .acquire(
            wants,
            owner,
            (w) => emit({ event: 'file_blocked', timestamp: new Date().toISOString(), file, owner: w.owner, wants: w.wants, free: w.free }),
            ended.signal,
            file,
          )
          .finally(() => queue?.resume());
        const id = nextLease++;
        leases.set(id, lease);
        return id;
      },
      release: async (id) => {
        leases.get(id)?.release();
        leases.delete(id);
      },
      qemuStarted: async ({ pid, runDir }) => {
        qemus.add(pid);
        (await this.vms()).qemu.trackQemu(pid, runDir);
      },
      qemuEnded: async (pid) => {
        qemus.delete(pid);
        (await this.vms()).qemu.untrackQemu(pid);
      },
      keep: (pid) => {
        qemus.delete(pid);
      },
      dispose: () => {
        ended.abort(new Error(`${file} ended while waiting for VM resources`));
        // Only a file that started QEMU has pids here, so the driver is loaded.
        for (const pid of qemus) void this.vms().then(({ qemu }) => qemu.killQemuSync(pid));
        for (const lease of leases.values()) lease.release();
        qemus.clear();
        leases.clear();
      },
    };
  }
}
