import { diskArgs, type DiskAttachment } from './disks.js';
import type { Accel } from './host.js';

/**
 * Bump whenever buildQemuArgs changes what the guest sees (devices, machine,
 * CPU, memory layout): snapshots taken with another template cannot be
 * restored, so the fixture cache key includes this number.
 */
export const LAUNCH_TEMPLATE_VERSION = 1;

/** Pinned, versioned machine type: device state layout stays stable for snapshots. */
export const MACHINE_TYPE = 'pc-i440fx-7.2';

/** Name of the virtio-serial port the guest agent opens. */
export const AGENT_PORT_NAME = 'org.provium.agent';

/** QOM id of the agent port: `qom-get /machine/peripheral/<id> name` reads the port name back. */
export const AGENT_PORT_ID = 'agent-port';

export interface LaunchSpec {
  name: string;
  accel: Accel;
  memoryMiB: number;
  cpus: number;
  /**
   * Guest RAM file; `share` true = writes reach the file (MAP_SHARED), false = private copy-on-write.
   * `prealloc`: QEMU populates the whole file before the guest starts (see launch.ts).
   */
  ram: { path: string; share: boolean; prealloc?: boolean };
  /** QMP and console: QEMU connects to these (the driver listens). Agent: QEMU listens. */
  sockets: { qmp: string; console: string; agent: string };
  kernel?: { path: string; initrd?: string; append?: string };
  /** `-incoming defer`: wait for `migrate-incoming` (restore from a snapshot). */
  incoming: boolean;
  /** `-S`: do not start the vCPUs until `cont`. */
  startPaused: boolean;
  /** Virtio disks, in the guest's order (vda, vdb, ...). */
  disks?: readonly DiskAttachment[];
  /** Appended verbatim: netdevs and devices for labs, extra drives. */
  extraArgs: readonly string[];
}

/** QEMU option values separate keys with ',': a literal comma is written ',,'. */
function opt(value: string): string {
  return value.replaceAll(',', ',,');
}

/** The whole QEMU argv (without the binary). The only place that decides it. */
export function buildQemuArgs(spec: LaunchSpec): string[] {
  const args = [
    '-name', `guest=${opt(spec.name)},process=provium:${opt(spec.name)}`,
    '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
    '-machine', `${MACHINE_TYPE},memory-backend=mem`,
    '-accel', spec.accel,
    '-cpu', spec.accel === 'kvm' ? 'host' : 'qemu64',
    '-smp', String(spec.cpus),
    '-m', `${spec.memoryMiB}M`,
    '-object',
    `memory-backend-file,id=mem,size=${spec.memoryMiB}M,mem-path=${opt(spec.ram.path)},share=${spec.ram.share ? 'on' : 'off'}${spec.ram.prealloc ? ',prealloc=on' : ''}`,
    '-device', 'vmgenid',
    '-chardev', `socket,id=qmp,path=${opt(spec.sockets.qmp)},server=off`,
    '-mon', 'chardev=qmp,mode=control',
    '-chardev', `socket,id=console,path=${opt(spec.sockets.console)},server=off`,
    '-serial', 'chardev:console',
    '-device', 'virtio-serial-pci,id=vser0',
    '-chardev', `socket,id=agent,path=${opt(spec.sockets.agent)},server=on,wait=off`,
    '-device', `virtserialport,id=${AGENT_PORT_ID},bus=vser0.0,chardev=agent,name=${AGENT_PORT_NAME}`,
  ];
  for (const d of spec.disks ?? []) args.push(...diskArgs(d));
  if (spec.kernel) {
    args.push('-kernel', spec.kernel.path);
    if (spec.kernel.initrd) args.push('-initrd', spec.kernel.initrd);
    if (spec.kernel.append) args.push('-append', spec.kernel.append);
  }
  if (spec.startPaused) args.push('-S');
  if (spec.incoming) args.push('-incoming', 'defer');
  args.push(...spec.extraArgs);
  return args;
}
