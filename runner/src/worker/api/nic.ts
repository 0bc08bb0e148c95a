/** `vm:nic(bridge)`: the binding of the schema's NIC class. */
import type { Lua } from '@provium/types';
import { NicHandle } from '../vm/handles.js';
import { openCapture } from './capture.js';

export const nicBinding: Lua.NICBinding = {
  is: (v) => v instanceof NicHandle,
  receiver: 'nic',
  tostring: (n) => `NIC(${n.vm.session.name} on ${n.bridge.name})`,
  methods: {
    vm_name: (n) => n.vm.session.name,
    bridge: (n) => n.bridge.name,
    disconnect: async (n) => {
      const net = await n.bridge.net();
      await net.detach(n.bridge.id, n.vm.session.netId).catch(() => {}); // never raises: the VM or the bridge may be gone
    },
    reconnect: async (n) => {
      if (n.vm.session.state === 'shutdown') return;
      await n.bridge.attach([n.vm]).catch(() => {});
    },
    capture: async (n, [], call) => {
      const s = n.vm.session;
      if (s.state !== 'booted' && s.state !== 'paused') {
        throw new Error(`nic:capture(): ${s.label} is not booted (${s.state}), so its NIC on bridge "${n.bridge.name}" carries nothing yet; boot it first (vm:boot())`);
      }
      const net = await n.bridge.net();
      const what = { label: `${s.label} on bridge "${n.bridge.name}"`, fileName: `${s.name}-on-${n.bridge.name}` };
      return openCapture(call, what, (sink) => net.capture(n.bridge.id, s.netId, sink), s.openStreams);
    },
    counters: async (n) => {
      const c = await (await n.bridge.net()).counters(n.bridge.id, n.vm.session.netId);
      return { rx_bytes: c.rx_bytes, tx_bytes: c.tx_bytes, rx_packets: c.rx_packets, tx_packets: c.tx_packets };
    },
  },
};
