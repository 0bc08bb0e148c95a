export { DiskService } from './service.js';
export { DiskClient, MediatedDisk } from './client.js';
export type { DiskServiceStats, StartedDisk } from './service-protocol.js';
export { DiskServer, type DiskServerOptions, type DiskStats } from './server.js';
export { checkPolicyChange, FaultPolicy, SECTOR, type IoKind, type PolicyChange, type PolicyState } from './policy.js';
export { WriteBackStore, WRITE_BACK_LIMIT } from './store.js';
export { diskQemuArgs, nbdUri } from './qemu-args.js';
export { QemuIo } from './testing.js';
