/**
 * The main thread's HostServices: what every worker of a run shares. Each file
 * gets its own view (FileHost) so that whatever a file still holds when it
 * ends — pool leases, QEMU processes of a terminated worker — is given back
 * or killed, whatever way the file ended.
 */
import { resolveProfile } from '@provium/image';
import { killQemuSync, trackQemu, untrackQemu } from '@provium/qemu';
import type { HostServices, PreparedProfile, Resources, RunEvent } from '@provium/types';
import type { ResolvedConfig } from '../config/load.js';
import { ResourcePool, type Lease } from './pool.js';

export interface FileHost extends HostServices {
  /** Releases the file's leases and kills its QEMU processes that are still alive. */
  dispose(): void;
}

export class MainHost {
  private readonly profiles = new Map<string, Promise<PreparedProfile>>();

  constructor(
    private readonly config: ResolvedConfig,
    readonly pool: ResourcePool,
    /** Progress of slow one-off work (building an image), for a status line. */
    private readonly progress: (message: string) => void,
  ) {}

  /** Builds (at most once per run) and resolves a profile. */
  prepareProfile(name: string): Promise<PreparedProfile> {
    let p = this.profiles.get(name);
    if (!p) {
      const source = this.config.file ? { file: this.config.file, toml: this.config.toml } : undefined;
      p = resolveProfile(name, source, { cacheDir: this.config.cacheDir, onProgress: this.progress }).then(
        ({ name: n, kernel, initrd, cmdline, memory, cpus, identity }) => ({ name: n, kernel, initrd, cmdline, memory, cpus, identity }),
      );
      this.profiles.set(name, p);
    }
    return p;
  }

  forFile(file: string, emit: (e: RunEvent) => void): FileHost {
    const leases = new Map<number, Lease>();
    const qemus = new Set<number>();
    let nextLease = 1;
    return {
      prepareProfile: (name) => this.prepareProfile(name),
      acquire: async (owner: string, wants: Resources) => {
        const lease = await this.pool.acquire(wants, owner, (w) =>
          emit({ event: 'file_blocked', timestamp: new Date().toISOString(), file, owner: w.owner, wants: w.wants, free: w.free }),
        );
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
        trackQemu(pid, runDir);
      },
      qemuEnded: async (pid) => {
        qemus.delete(pid);
        untrackQemu(pid);
      },
      dispose: () => {
        for (const pid of qemus) killQemuSync(pid);
        for (const lease of leases.values()) lease.release();
        qemus.clear();
        leases.clear();
      },
    };
  }
}
