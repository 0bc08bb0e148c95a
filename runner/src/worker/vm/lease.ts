/** Leases of the shared resource pool, shared by the VMs booted on one acquisition. */
import type { HostServices } from '@provium/types';

/** A share of a pool lease: the lease is given back when its last holder releases. */
export interface LeaseShare {
  release(): Promise<void>;
}

/** One lease held by `holders` VMs (a lab booted in one acquisition). */
export function shareLease(host: HostServices, leaseId: number, holders: number): LeaseShare[] {
  let left = holders;
  return Array.from({ length: holders }, () => {
    let done = false;
    return {
      release: async () => {
        if (done) return;
        done = true;
        if (--left === 0) await host.release(leaseId);
      },
    };
  });
}
