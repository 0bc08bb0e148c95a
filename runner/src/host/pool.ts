/**
 * The memory and CPU pool shared by every worker of a run. VMs take their
 * share when they boot and give it back when they stop; a lab takes all of its
 * VMs in one acquisition so two labs can never each hold half of what both
 * need (no hold-and-wait). Requests are granted strictly in arrival order: a
 * big lab at the head of the queue is not starved by a stream of small VMs.
 * Files that each hold VMs and wait for more can still block each other (a
 * file boots a second VM while another does the same): the request that would
 * close such a cycle fails at once (the deadlock verdict) instead of waiting
 * for the files' timeouts.
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
  /** The file that asks; undefined for a request of no file. */
  holder: string | undefined;
  wants: Resources;
  resolve(lease: Lease): void;
  reject(err: Error): void;
}

const GiB = 1024 ** 3;
const fmtMem = (b: number) => (b >= GiB ? `${(b / GiB).toFixed(1)}G` : `${Math.round(b / 1024 ** 2)}M`);
export const formatResources = (r: Resources) => `${fmtMem(r.memory)} memory and ${r.cpus} CPU${r.cpus === 1 ? '' : 's'}`;

/** The command line's say over the pool: `--mem` (bytes), `--cpus` (base vCPUs) and `--cpu-overcommit` (already clamped). */
export interface PoolOptions {
  memory?: number;
  cpus?: number;
  overcommit?: number;
}

/**
 * The pool: `--mem`, else 80% of the host's RAM; vCPUs = round(base ×
 * overcommit), at least 1, where the base is `--cpus`, else the host's cores,
 * and the overcommit defaults to 1.0 under KVM and 4.0 under TCG (emulated
 * vCPUs are plain host threads, and a 3-VM lab must boot on a 2-core machine).
 */
export function poolLimits(accel: 'kvm' | 'tcg', o: PoolOptions = {}): PoolLimits {
  const factor = o.overcommit ?? (accel === 'kvm' ? 1.0 : 4.0);
  const base = o.cpus ?? os.availableParallelism();
  return {
    memory: o.memory ?? Math.floor(os.totalmem() * 0.8),
    cpus: Math.max(1, Math.round(base * factor)),
    origin: `${o.memory === undefined ? '80% of host RAM' : '--mem'}, ${o.cpus === undefined ? `${base} cores` : `--cpus ${base}`} × --cpu-overcommit ${factor}`,
  };
}

export class ResourcePool {
  private free: Resources;
  private readonly queue: Pending[] = [];
  /** What each file (undefined: no file) holds now, summed over its leases. */
  private readonly held = new Map<string | undefined, Resources>();

  constructor(readonly limits: PoolLimits) {
    this.free = { memory: limits.memory, cpus: limits.cpus };
  }

  /**
   * Resolves once `wants` fits; a request bigger than the whole pool fails at
   * once, and so does one of file `holder` whose wait would deadlock the pool.
   * `onBlocked` hears when the request has to wait, with what is free.
   */
  acquire(wants: Resources, owner: string, onBlocked?: (w: Waiting) => void, signal?: AbortSignal, holder?: string): Promise<Lease> {
    if (wants.memory > this.limits.memory || wants.cpus > this.limits.cpus) {
      return Promise.reject(
        new Error(
          `${owner} needs ${formatResources(wants)}, more than the whole pool of ${formatResources(this.limits)} (${this.limits.origin}); ` +
            'lower memory/cpus in vm_opts, or raise --mem, --cpus or --cpu-overcommit',
        ),
      );
    }
    return new Promise<Lease>((resolve, reject) => {
      const entry: Pending = { owner, holder, wants, resolve, reject };
      this.queue.push(entry);
      this.grant();
      if (!this.queue.includes(entry)) return;
      const verdict = this.deadlock(entry);
      if (verdict) {
        this.queue.splice(this.queue.indexOf(entry), 1);
        reject(verdict);
        return;
      }
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
      onBlocked?.({ owner, wants, free: { ...this.free } });
    });
  }

  /**
   * The error for `entry`, which has to wait, when waiting would close a
   * hold-and-wait cycle: every file holding part of the pool is itself waiting
   * (the asker included), no waiting request fits in what is free, and nothing
   * is held outside a file. Then no release can ever come.
   */
  private deadlock(entry: Pending): Error | undefined {
    if (this.held.size === 0 || this.held.has(undefined) || entry.holder === undefined) return undefined;
    const waiting = new Set(this.queue.map((p) => p.holder));
    if (![...this.held.keys()].every((h) => waiting.has(h))) return undefined;
    if (this.queue.some((p) => p.wants.memory <= this.free.memory && p.wants.cpus <= this.free.cpus)) return undefined;
    const holders = [...this.held].map(([h, r]) => `${h} holds ${formatResources(r)}`).join('; ');
    return new Error(
      `the pool is deadlocked: ${entry.owner} needs ${formatResources(entry.wants)}, only ${formatResources(this.free)} is free, ` +
        `and every file holding the rest is waiting for more (${holders}). ` +
        'Reserve what each file needs up front with provium:claim{memory=..., cpus=...}, or boot a lab\'s VMs together with provium:boot()',
    );
  }

  available(): Resources {
    return { ...this.free };
  }

  /**
   * After a release: the last holder that was not waiting may have gone, which
   * closes a cycle without a new request. The newest waiter then fails.
   */
  private breakCycle(): void {
    const newest = this.queue.at(-1);
    const verdict = newest && this.deadlock(newest);
    if (!verdict) return;
    this.queue.pop();
    newest.reject(verdict);
  }

  private hold(holder: string | undefined, r: Resources, sign: 1 | -1): void {
    const now = this.held.get(holder) ?? { memory: 0, cpus: 0 };
    const next = { memory: now.memory + sign * r.memory, cpus: now.cpus + sign * r.cpus };
    if (next.memory === 0 && next.cpus === 0) this.held.delete(holder);
    else this.held.set(holder, next);
  }

  private grant(): void {
    while (this.queue.length > 0) {
      const head = this.queue[0];
      if (head.wants.memory > this.free.memory || head.wants.cpus > this.free.cpus) return;
      this.queue.shift();
      this.free.memory -= head.wants.memory;
      this.free.cpus -= head.wants.cpus;
      this.hold(head.holder, head.wants, 1);
      let released = false;
      head.resolve({
        granted: head.wants,
        release: () => {
          if (released) return;
          released = true;
          this.free.memory += head.wants.memory;
          this.free.cpus += head.wants.cpus;
          this.hold(head.holder, head.wants, -1);
          this.grant();
          this.breakCycle();
        },
      });
    }
  }
}
