/** Memory (bytes) and CPUs, as VMs request them from the shared pool. */
export interface Resources {
  memory: number;
  cpus: number;
}
