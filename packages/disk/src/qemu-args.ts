/** QEMU's side of a mediated disk: its NBD client as a block node, and a virtio disk on it. */

/** QEMU's option syntax: a comma inside a value is written twice. */
const escape = (value: string): string => value.replace(/,/g, ',,');

/** `nbd+unix:///NAME?socket=PATH`, as qemu-io and qemu-img take it. */
export function nbdUri(name: string, socketPath: string): string {
  return `nbd+unix:///${name}?socket=${socketPath}`;
}

/**
 * `-blockdev` (QEMU's NBD client on the unix socket) and `-device
 * virtio-blk-pci` on it, with `node` as the node name and device id stem.
 * The guest sees a disk with a volatile write cache, so it sends flushes.
 */
export function diskQemuArgs(opts: { name: string; socketPath: string; node: string }): string[] {
  if (!/^[A-Za-z][A-Za-z0-9_-]{0,30}$/.test(opts.node)) {
    throw new Error(`disk "${opts.name}": QEMU node name ${JSON.stringify(opts.node)} must be a letter then up to 30 letters, digits, _ or -`);
  }
  return [
    '-blockdev', `driver=nbd,server.type=unix,server.path=${escape(opts.socketPath)},export=${escape(opts.name)},node-name=${opts.node}`,
    '-device', `virtio-blk-pci,drive=${opts.node},id=${opts.node}-dev`,
  ];
}
