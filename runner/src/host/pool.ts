/**
 * The memory and CPU pool shared by every worker of a run. VMs take their
 * share when they boot and give it back when they stop; a lab takes all of its
 * VMs in one acquisition so two labs can never each hold half of what both
 * need (no hold-and-wait). Requests are granted strictly in arrival order: a
 * big lab at the head of the queue is not starved by a stream of small VMs.
 */
import os from 'node:os';
import type { Resources } from '@provium/types';

export type { Resources };

export interface PoolLimits extends Resources {
  /** How the limits were chosen, for error messages and `provium doctor`. */
  origin: string;
}

export interface Lease {
  readonly granted: Resources;
  release(): void;
}

export interface Waiting {
  owner: string;
  wants: Resources;
  free: Resources;
}

interface Pending {
  owner: string;
  wants: Resources;
  resolve(lease: Lease): void;
  reject(err: Error): void;
}

const GiB = 1024 ** 3;
const fmtMem = (b: number) => (b >= GiB ? `${(b / GiB).toFixed(1)}G` : `${Math.round(b / 1024 ** 2)}M`);
export const formatResources = (r: Resources) => `${fmtMem(r.memory)} memory and ${r.cpus} CPU${r.cpus === 1 ? '' : 's'}`;

/**
 * Defaults: 80% of the host's RAM; CPUs = cores × overcommit, where the
 * overcommit defaults to 1.0 under KVM and 4.0 under TCG (emulated vCPUs are
 * plain host threads, and a 3-VM lab must boot on a 2-core machine).
 */
export function defaultLimits(accel: 'kvm' | 'tcg', overcommit?: number): PoolLimits {
  const factor = overcommit ?? (accel === 'kvm' ? 1.0 : 4.0);
  const cores = os.availableParallelism();
  return {
    memory: Math.floor(os.totalmem() * 0.8),
    cpus: Math.max(1, Math.floor(cores * factor)),
    origin: `80% of host RAM, ${cores} cores × --cpu-overcommit ${factor}`,
  };
}

export class ResourcePool {
  private free: Resources;
  private readonly queue: Pending[] = [];

  constructor(readonly limits: PoolLimits) {
    this.free = { memory: limits.memory, cpus: limits.cpus };
  }

  /**
   * Resolves once `wants` fits; a request bigger than the whole pool fails at once.
   * `onBlocked` hears when the request has to wait, with what is free.
   */
  acquire(wants: Resources, owner: string, onBlocked?: (w: Waiting) => void, signal?: AbortSignal): Promise<Lease> {
    if (wants.memory > this.limits.memory || wants.cpus > this.limits.cpus) {
      return Promise.reject(
        new Error(
          `${owner} needs ${formatResources(wants)}, more than the whole pool of ${formatResources(this.limits)} (${this.limits.origin}); ` +
            'lower memory/cpus in vm_opts or raise --cpu-overcommit',
        ),
      );
    }
    return new Promise<Lease>((resolve, reject) => {
      const entry: Pending = { owner, wants, resolve, reject };
      this.queue.push(entry);
      signal?.addEventListener(
        'abort',
        () => {
          const i = this.queue.indexOf(entry);
          if (i >= 0) {
            this.queue.splice(i, 1);
            reject(signal.reason instanceof Error ? signal.reason : new Error(`${owner}: resource wait cancelled`));
            this.grant();
          }
        },
        { once: true },
      );
      this.grant();
      if (this.queue.includes(entry)) onBlocked?.({ owner, wants, free: { ...this.free } });
    });
  }

  available(): Resources {
    return { ...this.free };
  }

  private grant(): void {
    while (this.queue.length > 0) {
      const head = this.queue[0];
      if (head.wants.memory > this.free.memory || head.wants.cpus > this.free.cpus) return;
      this.queue.shift();
      this.free.memory -= head.wants.memory;
      this.free.cpus -= head.wants.cpus;
      let released = false;
      head.resolve({
        granted: head.wants,
        release: () => {
          if (released) return;
          released = true;
          this.free.memory += head.wants.memory;
          this.free.cpus += head.wants.cpus;
          this.grant();
        },
      });
    }
  }
}
