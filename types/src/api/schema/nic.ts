import type { ClassSpec } from '../schema-types.js';
import { fn, A } from './build.js';

export const nic: ClassSpec = {
  name: 'NIC',
  doc: 'A VM\'s network interface on one bridge.',
  fields: [],
  methods: [
    fn('counters', [], 'NicCounters', 'Traffic counted by the bridge for this NIC.', A),
    fn('capture', [], 'Capture', 'Starts a packet capture of this NIC: the frames it sends and those delivered to it. Raises unless the VM is booted (boot it first).', A),
    fn('vm_name', [], 'string', 'The VM\'s name.', A),
    fn('bridge', [], 'string', 'The bridge\'s name (not a handle).', A),
    fn('disconnect', [], 'nil', 'A cable pull: the guest sees its link go down and the NIC leaves the bridge\'s forwarding (as `bridge:detach(vm)`); the NIC stays in the VM. Never raises on a NIC whose VM or bridge is gone.', A),
    fn('reconnect', [], 'nil', 'Plugs the cable back in (as `bridge:attach(vm)`). Never raises on a NIC whose VM or bridge is gone.', A),
  ],
};
