import type { ClassSpec } from '../schema-types.js';
import { p, fn, A } from './build.js';

export const disk: ClassSpec = {
  name: 'Disk',
  doc: 'A disk of a VM (see docs/disks.md). Its sector calls act on the VM\'s own image file from the host side: the guest\'s page cache does not see them until it drops its caches.',
  fields: [],
  methods: [
    fn('id', [], 'string', 'The disk\'s id.', A),
    fn('size', [], 'integer', 'The size of the image file in bytes (of the disk the guest sees, for a qcow2 root overlay).', A),
    fn('read_sectors', [p('sector', 'integer', 'First 512-byte sector.'), p('count', 'integer', 'Number of sectors.')], 'bytes',
      'Reads `count` × 512 bytes from byte `sector` × 512 of the image; shorter at the end of the image. Raw images only (scratch, template, raw path disks).', A),
    fn('write_sectors', [p('sector', 'integer', 'First 512-byte sector.'), p('data', 'bytes', 'Bytes to write (any length).')], 'nil', 'Writes `data` at byte `sector` × 512 of the image. Raw images only.', A),
    fn('fault_inject', [p('mode', 'string', '"eio_read", "eio_write" or "slow" (each sector call waits 50 ms).')], 'nil',
      'Adds a fault to the test\'s own sector calls (modes accumulate); the guest never sees these.', A),
    fn('clear_faults', [], 'nil', 'Removes every `fault_inject` mode.', A),
    fn('active_faults', [], 'string[]', 'The active `fault_inject` modes, sorted.', A),
    fn('detach', [], 'nil', 'Unplugs the disk from a running guest (best effort) and makes later sector calls raise; never raises.', A),
    fn('is_detached', [], 'boolean', 'True once `detach()` was called.', A),
    fn('fail_reads', [], 'nil', 'Mediated only: every guest READ fails with EIO (flushes still succeed).', A),
    fn('fail_writes', [], 'nil', 'Mediated only: every guest WRITE fails with EIO (flushes still succeed).', A),
    fn('fail_after', [p('n', 'integer', 'At least 1.')], 'nil',
      'Mediated only: counting guest commands (reads, writes, flushes) from now, the n-th and every later one fails with EIO; the only rule that fails a flush.', A),
    fn('fail_range', [p('sector', 'integer', 'First 512-byte sector.'), p('count', 'integer', 'Sectors, at least 1.')], 'nil',
      'Mediated only: a guest read or write overlapping the range fails with EIO.', A),
    fn('delay', [p('ms', 'integer', 'Milliseconds before each guest command is served; 0 turns it off.')], 'nil', 'Mediated only: slows the disk down.', A),
    fn('clear_policy', [], 'nil', 'Mediated only: the disk serves everything again, without a reboot.', A),
    fn('fault_policy', [], 'table', 'Mediated only: `{fail_reads, fail_writes, fail_after?, fail_range_sector?, fail_range_count?, delay_ms?}`, unset keys absent.', A),
    fn('power_cut', [], 'integer', 'Mediated only: drops every guest write not flushed yet; returns the bytes lost (the guest\'s page cache is untouched).', A),
  ],
};
