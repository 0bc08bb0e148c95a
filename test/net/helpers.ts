/**
 * Real labs for the network tests: default-image VMs under QEMU whose NICs
 * come from a LabNetwork, with the switches in the network thread (as the
 * runner runs them). Each suite gets a private runtime root, so a check for
 * leftovers only sees its own run dirs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentClient } from '@provium/agent';
import { prepareDefaultImage, type DefaultImage } from '../../packages/image/src/index.js';
import { NetService, type LabNetwork, type RemoteBackend } from '../../packages/net/src/index.js';
import { launchQemu, type QemuProcess } from '../../packages/qemu/src/index.js';

export interface TestVm {
  name: string;
  qemu: QemuProcess;
  agent: AgentClient;
}

export interface Suite {
  image: DefaultImage;
  /** Runtime root of the suite's QEMUs. */
  root: string;
  /** Socket root of the suite's network thread. */
  netRoot: string;
  service: NetService;
  backend: RemoteBackend;
  vms: TestVm[];
  /** Kills the VMs, closes the backend and stops the network thread (the directories stay for inspection). */
  shutdown(): Promise<void>;
  /** shutdown() and remove the suite's directories. */
  dispose(): Promise<void>;
}

export async function startSuite(): Promise<Suite> {
  const image = await prepareDefaultImage();
  const root = mkdtempSync(join(tmpdir(), 'pvnet-q-'));
  const netRoot = mkdtempSync(join(tmpdir(), 'pvnet-s-'));
  const service = await NetService.start({ root: netRoot });
  const backend = service.backend();
  const suite: Suite = {
    image, root, netRoot, service, backend, vms: [],
    shutdown: async () => {
      await Promise.all(suite.vms.map((v) => v.qemu.kill()));
      await backend.close().catch(() => {});
      await service.stop();
    },
    dispose: async () => {
      await suite.shutdown();
      rmSync(root, { recursive: true, force: true });
      rmSync(netRoot, { recursive: true, force: true });
    },
  };
  return suite;
}

export async function connectAgent(qemu: QemuProcess): Promise<AgentClient> {
  return AgentClient.connect(connect(qemu.agentSocketPath), { handshakeTimeoutMs: 120_000 });
}

/** Boots `name` with the NICs `net` has for it on the launch line, then lets the network configure the guest. */
export async function bootVm(suite: Suite, net: LabNetwork, name: string): Promise<TestVm> {
  const { image } = suite;
  const qemu = await launchQemu({
    name, memoryMiB: 192, runtimeRoot: suite.root, kernel: image.kernel, initrd: image.initrd,
    append: `${image.cmdline} provium.hostname=${name}`, extraArgs: net.launchArgs(name),
  });
  const vm: TestVm = { name, qemu, agent: undefined as unknown as AgentClient };
  suite.vms.push(vm);
  vm.agent = await connectAgent(qemu);
  await net.vmStarted(name, { qmp: qemu.qmp, agent: vm.agent });
  return vm;
}

export interface Sh {
  code: number;
  out: string;
  err: string;
}

export async function sh(vm: TestVm, cmd: string, timeoutMs = 120_000): Promise<Sh> {
  const r = await vm.agent.exec(cmd, { timeoutMs });
  return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
}

/** Runs `cmd`, failing with its output unless it exits 0. */
export async function ok(vm: TestVm, cmd: string): Promise<string> {
  const r = await sh(vm, cmd);
  if (r.code !== 0) throw new Error(`${vm.name}: \`${cmd}\` exited ${r.code}:\n${r.out}${r.err}`);
  return r.out;
}

export interface Ping {
  code: number;
  transmitted: number;
  received: number;
  /** Round-trip times of the replies, ms. */
  rtts: number[];
  output: string;
}

/**
 * busybox ping: `count` echo requests `interval` s apart; waits at most `wait`
 * s for replies after the last one. A ping that gets no reply is a normal
 * outcome here (partitions), not an error.
 */
export async function ping(vm: TestVm, target: string, opts: { count?: number; interval?: number; wait?: number; size?: number } = {}): Promise<Ping> {
  const count = opts.count ?? 3;
  const r = await sh(vm, `ping -c ${count} -i ${opts.interval ?? 0.2} -W ${opts.wait ?? 2}${opts.size ? ` -s ${opts.size}` : ''} ${target}`);
  const stats = /(\d+) packets transmitted, (\d+) packets received/.exec(r.out);
  return {
    code: r.code,
    transmitted: stats ? Number(stats[1]) : 0,
    received: stats ? Number(stats[2]) : 0,
    rtts: [...r.out.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1])),
    output: r.out + r.err,
  };
}

/** ICMP echo requests the guest's kernel has answered or seen (Icmp InEchos of /proc/net/snmp). */
export async function inEchos(vm: TestVm): Promise<number> {
  const snmp = await ok(vm, 'cat /proc/net/snmp');
  const lines = snmp.split('\n').filter((l) => l.startsWith('Icmp:'));
  const names = lines[0].split(/\s+/);
  const values = lines[1].split(/\s+/);
  return Number(values[names.indexOf('InEchos')]);
}

/** The guest interface that has `mac`. */
export async function ifaceOf(vm: TestVm, mac: string): Promise<string> {
  const out = await ok(vm, `for n in /sys/class/net/*; do [ "$(cat $n/address)" = "${mac}" ] && echo \${n##*/}; done; true`);
  const name = out.trim();
  if (!name) throw new Error(`${vm.name} has no interface with MAC ${mac}`);
  return name;
}

/** The guest kernel's own counters of an interface. */
export async function guestStats(vm: TestVm, iface: string): Promise<{ rx_packets: number; tx_packets: number; rx_bytes: number; tx_bytes: number }> {
  const out = await ok(vm, `cd /sys/class/net/${iface}/statistics && echo $(cat rx_packets tx_packets rx_bytes tx_bytes)`);
  const [rx_packets, tx_packets, rx_bytes, tx_bytes] = out.trim().split(' ').map(Number);
  return { rx_packets, tx_packets, rx_bytes, tx_bytes };
}

/**
 * Restores `id` from a snapshot file (packages/qemu) with the NICs `net` has
 * for it on the launch line (new switch sockets, same devices), then tells
 * the network the guest is back (configured already).
 */
export async function restoreVm(suite: Suite, net: LabNetwork, id: string, snapshot: string, label: string): Promise<TestVm> {
  const { unpackTemplate, restoreSnapshot } = await import('../../packages/qemu/src/index.js');
  const template = await unpackTemplate(snapshot, join(suite.root, 'templates'));
  const { image } = suite;
  const qemu = await restoreSnapshot(
    template,
    { name: label, runtimeRoot: suite.root, kernel: image.kernel, initrd: image.initrd, append: `${image.cmdline} provium.hostname=${id}`, extraArgs: net.launchArgs(id) },
    'private',
  );
  const vm: TestVm = { name: label, qemu, agent: undefined as unknown as AgentClient };
  suite.vms.push(vm);
  vm.agent = await connectAgent(qemu);
  await net.vmStarted(id, { qmp: qemu.qmp, agent: vm.agent }, { restored: true });
  return vm;
}
