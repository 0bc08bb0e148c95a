import type { ClassSpec } from '../schema-types.js';
import { p, opt, fn, A } from './build.js';

export const bridge: ClassSpec = {
  name: 'Bridge',
  doc: 'A virtual L2 segment between VMs, with impairments applied outside the guests.',
  fields: [],
  methods: [
    fn('name', [], 'string', 'The bridge name.', A),
    fn('attach', [p('vms', 'VM|string|(VM|string)[]', 'VMs (handles or names of the bridge\'s lab) to attach; a name that is no VM of the lab joins as a graph-only member.')], 'nil', 'Gives each VM a NIC on this bridge; VMs reach each other as `<vm>.<bridge>`. A list is checked whole before anything is attached.', A),
    fn('detach', [p('vm', 'VM|string', 'Attached VM (handle or name).')], 'nil', 'Disconnects a VM from the bridge.', A),
    fn('partition', [p('a', 'VM|string|PartitionSpec', 'A VM (handle or name), or `{from=, to=}` for one direction.'), opt('b', 'VM|string', 'The other VM.')], 'nil', 'Drops traffic between two VMs.', A),
    fn('unpartition', [p('a', 'VM|string|PartitionSpec', 'A VM (handle or name), or `{from=, to=}`.'), opt('b', 'VM|string', 'The other VM.')], 'nil', 'Undoes a partition.', A),
    fn('partition_all', [], 'nil', 'Sets the bridge-wide cut flag: every pair is cut, members attached later too, and `is_partitioned` is true for any two names.', A),
    fn('restore_all', [], 'nil', 'Clears the cut flag only: pair and one-way partitions and isolation stay.', A),
    fn('add_latency', [p('ms', 'number|LatencySpec', 'Milliseconds, or `{from=, to=, ms=}`.')], 'nil', 'Adds latency to frames.', A),
    fn('drop_rate', [p('pct', 'number|DropSpec', 'Percent 0..100 (fractions allowed; above 100 counts as 100), or `{from=, to=, p=}` with `p` in percent.')], 'nil', 'Drops frames at random (the original\'s percent).', A),
    fn('isolate', [p('vm', 'VM|string', 'VM to cut off.')], 'nil', 'Cuts a VM off from every other member.', A),
    fn('unisolate', [p('vm', 'VM|string', 'VM to reconnect.')], 'nil', 'Undoes isolate.', A),
    fn('is_partitioned', [p('a', 'VM|string', 'A VM.'), p('b', 'VM|string', 'Another VM.')], 'boolean', 'True when the cut flag is set (partition_all) or the pair is partitioned both ways; ignores one-way rules and isolation.', A),
    fn('is_isolated', [p('vm', 'VM|string', 'A VM.')], 'boolean', 'True while the VM is isolated on this bridge.', A),
    fn('members', [], 'string[]', 'Names of the members (attached VMs and graph-only names), sorted.', A),
    fn('latency_ms', [], 'number', 'The whole-bridge latency in milliseconds (0: none).', A),
    fn('drop_rate_pct', [], 'number', 'The whole-bridge drop rate in percent (0: none).', A),
    fn('nic', [p('vm', 'VM|string', 'An attached VM, or a graph-only member\'s name.')], 'NIC', 'The VM\'s NIC on this bridge; for a name that is no VM of the lab, a graph-only NIC (counters zero; disconnect/reconnect remove and restore the membership).', A),
    fn('reset', [], 'nil', 'Clears pair and one-way partitions, the cut flag, latency and drop rates; attachments, isolation, routes and uplink stay.', A),
    fn('enable_uplink', [], 'nil',
      'NAT from this bridge to the host\'s network and DNS (off by default): each VM on it gets one more NIC, on QEMU\'s user-mode network, with 10.0.2.15, a default route via 10.0.2.2 (the host, its 127.0.0.1 included) and nameserver 10.0.2.3. Nothing from outside reaches a guest; other bridges stay isolated. Kept in lab snapshots.', A),
    fn('disable_uplink', [], 'nil', 'Turns the uplink off: the VMs\' uplink NIC is unplugged, their default route and nameserver go.', A),
    fn('route', [p('to', 'Bridge|string|(Bridge|string)[]', 'A bridge, a bridge name, or a list of them.')], 'nil',
      'Records that this bridge routes to those bridges (L3 reachability), as the original does: graph state only, no packet is routed; the first call of a file logs a notice saying so.', A),
    fn('routes', [], 'string[]', 'The names recorded by `route`, sorted.', A),
  ],
};
