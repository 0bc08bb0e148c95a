// Lab network options, measured with two real default-image VMs under QEMU:
//   provium  the @provium/net switch (QEMU -netdev stream over a unix socket, switch in a Node thread)
//   dgram    a bare Node UDP hub on QEMU -netdev dgram (inet; Node has no unix datagram sockets)
//   vde      vde_switch + wirefilter (Debian vde2), QEMU -netdev vde; two switches joined by wirefilter
//   netns    Linux bridge + TAPs + tc netem in a network namespace (needs root / CAP_NET_ADMIN)
// For each: network setup time, helper processes, ping RTT, RTT with 50 ms one-way latency added,
// TCP throughput (wget of 16 MB from busybox httpd) and the host CPU the network spends on it.
// Usage: npm run build && node bench/lab/compare.mjs [provium dgram vde netns]
import { execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');
const { launchQemu } = await import(path.join(root, 'packages/qemu/dist/index.js'));
const { AgentClient } = await import(path.join(root, 'packages/agent/dist/index.js'));
const { prepareDefaultImage } = await import(path.join(root, 'packages/image/dist/index.js'));
const { NetService, LabNetwork } = await import(path.join(root, 'packages/net/dist/index.js'));

const image = await prepareDefaultImage();
const work = mkdtempSync(path.join(tmpdir(), 'pvbench-lab-'));
const IPS = ['10.9.0.1', '10.9.0.2'];
const MACS = ['02:00:00:00:09:01', '02:00:00:00:09:02'];
const TRANSFER_MB = 16;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const cpuOfPid = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').slice(readFileSync(`/proc/${pid}/stat`, 'utf8').lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10; // utime + stime, clock ticks (100/s) → ms
};
const selfCpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

async function freeUdpPort() {
  const s = createSocket('udp4');
  await new Promise((r) => s.bind(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

function spawnKeep(cmd, args) {
  const p = spawn(cmd, args, { stdio: ['pipe', 'ignore', 'inherit'] });
  return p;
}

const backends = {
  async provium() {
    const t0 = performance.now();
    const svc = await NetService.start({ root: path.join(work, 'net') });
    const net = new LabNetwork(svc.backend());
    await net.addBridge('lan', { subnet: '10.9.0.0/24' });
    await net.attach('lan', ['a', 'b']);
    const setupMs = performance.now() - t0;
    return {
      setupMs, processes: 0, root: false,
      args: (i) => net.launchArgs(['a', 'b'][i]),
      configure: async (i, vm) => net.vmStarted(['a', 'b'][i], { qmp: vm.qemu.qmp, agent: vm.agent }),
      addLatency: (ms) => net.addLatency('lan', ms),
      cpu: selfCpu, // the bench process: the network thread does the work, the main thread waits
      cleanup: async () => { await net.close(); await svc.stop(); },
    };
  },

  async dgram() {
    const t0 = performance.now();
    const hub = [];
    for (let i = 0; i < 2; i++) {
      const sock = createSocket('udp4');
      await new Promise((r) => sock.bind(0, '127.0.0.1', r));
      hub.push({ sock, qemuPort: await freeUdpPort() });
    }
    let delay = 0;
    hub.forEach((h, i) => h.sock.on('message', (msg) => {
      const o = hub[1 - i];
      const send = () => o.sock.send(msg, o.qemuPort, '127.0.0.1');
      if (delay) setTimeout(send, delay); else send();
    }));
    return {
      setupMs: performance.now() - t0, processes: 0, root: false,
      args: (i) => ['-netdev', `dgram,id=n0,local.type=inet,local.host=127.0.0.1,local.port=${hub[i].qemuPort},remote.type=inet,remote.host=127.0.0.1,remote.port=${hub[i].sock.address().port}`,
        '-device', `virtio-net-pci,netdev=n0,mac=${MACS[i]},addr=0x10,romfile=`],
      addLatency: async (ms) => { delay = ms; },
      cpu: selfCpu,
      cleanup: async () => hub.forEach((h) => h.sock.close()),
    };
  },

  async vde() {
    const t0 = performance.now();
    const dirs = [path.join(work, 'vde1'), path.join(work, 'vde2')];
    const switches = dirs.map((d) => spawnKeep('vde_switch', ['-s', d]));
    for (const d of dirs) while (true) { try { readFileSync(path.join(d, 'ctl')); } catch (e) { if (e.code === 'ENXIO' || e.code === 'EISDIR' || e.code === 'EINVAL') break; } await sleep(10); }
    let filter;
    const startFilter = async (ms) => {
      if (filter) { filter.kill('SIGKILL'); await new Promise((r) => filter.once('exit', r)); }
      filter = spawnKeep('wirefilter', ['-v', `${dirs[0]}:${dirs[1]}`, ...(ms ? ['-d', String(ms)] : [])]);
      await sleep(300); // wirefilter has no readiness signal
    };
    await startFilter(0);
    return {
      setupMs: performance.now() - t0, processes: 3, root: false,
      args: (i) => ['-netdev', `vde,id=n0,sock=${dirs[i]}`, '-device', `virtio-net-pci,netdev=n0,mac=${MACS[i]},addr=0x10,romfile=`],
      addLatency: (ms) => startFilter(ms),
      cpu: () => switches.reduce((s, p) => s + cpuOfPid(p.pid), 0) + cpuOfPid(filter.pid),
      cleanup: async () => { filter.kill('SIGKILL'); for (const s of switches) s.kill('SIGKILL'); },
    };
  },

  async netns() {
    const ns = `pvbench${process.pid}`;
    const ip = (...a) => execFileSync('ip', a, { stdio: ['ignore', 'ignore', 'inherit'] });
    const t0 = performance.now();
    ip('netns', 'add', ns);
    ip('-n', ns, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', ns, 'link', 'set', 'br0', 'up');
    for (const t of ['tap0', 'tap1']) {
      ip('-n', ns, 'tuntap', 'add', t, 'mode', 'tap');
      ip('-n', ns, 'link', 'set', t, 'master', 'br0', 'up');
    }
    const setupMs = performance.now() - t0;
    const wrapper = path.join(work, 'qemu-in-netns');
    writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${ns} qemu-system-x86_64 "$@"\n`);
    chmodSync(wrapper, 0o755);
    return {
      setupMs, processes: 0, root: true, qemuBinary: wrapper,
      args: (i) => ['-netdev', `tap,id=n0,ifname=tap${i},script=no,downscript=no`, '-device', `virtio-net-pci,netdev=n0,mac=${MACS[i]},addr=0x10,romfile=`],
      addLatency: async (ms) => { for (const t of ['tap0', 'tap1']) execFileSync('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'replace', 'dev', t, 'root', 'netem', 'delay', `${ms}ms`]); },
      cpu: () => NaN, // the kernel's softirq time: not attributable to this lab
      cleanup: async () => ip('netns', 'del', ns),
    };
  },
};

async function exec(vm, cmd) {
  const r = await vm.agent.exec(cmd, { timeoutMs: 300_000 });
  if (r.exitCode !== 0) throw new Error(`${vm.name}: ${cmd} → ${r.exitCode}: ${r.stderr}`);
  return r.stdout.toString();
}

async function pingAvg(vm, count) {
  const out = await exec(vm, `ping -c ${count} -i 0.1 ${IPS[1]}`);
  return Number(/min\/avg\/max = [\d.]+\/([\d.]+)\//.exec(out)[1]);
}

async function measure(name) {
  const net = await backends[name]();
  const vms = [];
  try {
    for (let i = 0; i < 2; i++) {
      const qemu = await launchQemu({
        name: `${name}-${i}`, memoryMiB: 256, kernel: image.kernel, initrd: image.initrd, append: image.cmdline,
        extraArgs: net.args(i), ...(net.qemuBinary ? { qemuBinary: net.qemuBinary } : {}), runtimeRoot: path.join(work, 'run'),
      });
      const agent = await AgentClient.connect(connect(qemu.agentSocketPath), { handshakeTimeoutMs: 120_000 });
      vms.push({ name: `${name}-${i}`, qemu, agent });
    }
    for (const [i, vm] of vms.entries()) {
      if (net.configure) await net.configure(i, vm);
      else await exec(vm, `e=$(for n in /sys/class/net/*; do [ "$(cat $n/address)" = ${MACS[i]} ] && echo \${n##*/}; done); echo 1 > /proc/sys/net/ipv6/conf/$e/disable_ipv6; ip addr add ${IPS[i]}/24 dev $e && ip link set $e up`);
    }
    await exec(vms[0], `ping -c 1 -W 10 ${IPS[1]}`); // ARP, warm-up
    const rtt = await pingAvg(vms[0], 20);
    await exec(vms[1], `mkdir -p /tmp/www && dd if=/dev/zero of=/tmp/www/f bs=1M count=${TRANSFER_MB} 2>/dev/null && httpd -p 8000 -h /tmp/www`);
    const c0 = net.cpu();
    const t0 = performance.now();
    await exec(vms[0], `wget -q -O /dev/null http://${IPS[1]}:8000/f`);
    const secs = (performance.now() - t0) / 1000;
    const cpuMs = net.cpu() - c0;
    let rtt50;
    try {
      await net.addLatency(50);
      rtt50 = await pingAvg(vms[0], 5);
    } catch (err) {
      rtt50 = `failed: ${err.message.split('\n').at(-2) ?? err.message}`.slice(0, 60);
    }
    return { backend: name, root: net.root, helperProcesses: net.processes, setupMs: +net.setupMs.toFixed(1), rttMs: rtt, rttWith50msMs: rtt50, throughputMBs: +(TRANSFER_MB / secs).toFixed(2), netCpuMsPerMB: Number.isNaN(cpuMs) ? 'kernel' : +(cpuMs / TRANSFER_MB).toFixed(1) };
  } finally {
    await Promise.all(vms.map((v) => v.qemu.kill()));
    await net.cleanup();
  }
}

const which = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(backends);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const median = (xs) => {
  const nums = xs.filter((x) => typeof x === 'number');
  if (nums.length === 0) return xs[0];
  const s = [...nums].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const runs = Object.fromEntries(which.map((n) => [n, []]));
try {
  // Round-robin, so load from anything else on the machine spreads over every backend.
  for (let r = 0; r < RUNS; r++) {
    for (const name of which) {
      let res;
      try {
        res = await measure(name);
      } catch (err) {
        res = { backend: name, error: err.message.split('\n')[0] };
      }
      runs[name].push(res);
      console.error(JSON.stringify(res));
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(`median of ${RUNS} runs (TCG: the guests' CPU emulation bounds RTT and throughput)`);
console.table(which.map((name) => {
  const rs = runs[name];
  const out = { backend: name };
  for (const key of Object.keys(rs.find((x) => !x.error) ?? rs[0])) if (key !== 'backend') out[key] = median(rs.map((x) => x[key]));
  return out;
}));
