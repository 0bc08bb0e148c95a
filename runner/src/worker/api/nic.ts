/** `vm:nic(bridge)` and `bridge:nic(name)`: the binding of the schema's NIC class. */
import type { Lua } from '@provium/types';
import { GraphNicHandle, NicHandle } from '../vm/handles.js';

const ZERO = { rx_bytes: 0, tx_bytes: 0, rx_packets: 0, tx_packets: 0, errors: 0 };

/**
 * The guest's receive plus transmit errors of the interface with this MAC
 * (the sheet's "from the guest's point of view": the switch never sees a
 * frame the guest's driver failed on).
 */
async function guestErrors(n: NicHandle, mac: string): Promise<number> {
  const script = `for d in /sys/class/net/*; do [ "$(cat "$d/address")" = "${mac}" ] && echo $(( $(cat "$d/statistics/rx_errors") + $(cat "$d/statistics/tx_errors") )); done; true`;
  const r = await n.vm.session.guard(n.vm.session.agentFor().exec(['sh', '-c', script]));
  const errors = Number.parseInt(r.stdout.toString().trim(), 10);
  if (!Number.isInteger(errors)) throw new Error(`nic:counters(): the guest has no interface with MAC ${mac} (its NIC on bridge "${n.bridge.name}"): ${r.stderr.toString().trim() || 'nothing read'}`);
  return errors;
}

export const nicBinding: Lua.NICBinding = {
  is: (v) => v instanceof NicHandle || v instanceof GraphNicHandle,
  receiver: 'nic',
  tostring: (n) => (n instanceof GraphNicHandle ? `NIC(${n.name} on ${n.bridge.name}, graph only)` : `NIC(${n.vm.session.name} on ${n.bridge.name})`),
  methods: {
    vm_name: (n) => (n instanceof GraphNicHandle ? n.name : n.vm.session.name),
    bridge: (n) => n.bridge.name,
    disconnect: async (n) => {
      if (n instanceof GraphNicHandle) return n.bridge.graph.forget(n.name);
      const net = await n.bridge.net();
      await net.detach(n.bridge.id, n.vm.session.netId).catch(() => {}); // never raises: the VM or the bridge may be gone
    },
    reconnect: async (n) => {
      if (n instanceof GraphNicHandle) return void n.bridge.graph.members.add(n.name);
      if (n.vm.session.state === 'shutdown') return;
      await n.bridge.attach([n.vm]).catch(() => {});
    },
    counters: async (n) => {
      if (n instanceof GraphNicHandle) return ZERO;
      const net = await n.bridge.net();
      const c = await net.counters(n.bridge.id, n.vm.session.netId);
      const nic = net.nic(n.bridge.id, n.vm.session.netId);
      // Errors are the guest's own count: 0 while it is not running (not booted yet, paused, gone) or the NIC not plugged.
      const errors = n.vm.session.state === 'booted' && nic.plugged ? await guestErrors(n, nic.mac) : 0;
      return { rx_bytes: c.rx_bytes, tx_bytes: c.tx_bytes, rx_packets: c.rx_packets, tx_packets: c.tx_packets, errors };
    },
  },
};
