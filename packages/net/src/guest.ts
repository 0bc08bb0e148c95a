/**
 * The guest side of a lab network, done through the agent with the default
 * guest's busybox: find each NIC by its MAC (waiting for a hot-plugged one to
 * appear), give it its address, pin the other members' MACs (static ARP) and
 * write their names into /etc/hosts. The only routes are the bridges' own
 * subnets: no default route, nothing reaches the host's networks, unless a
 * bridge of the VM has the uplink (guest-uplink.ts).
 */
import { createHash } from 'node:crypto';
import { isMac } from './frame.js';

/** The part of @provium/agent's AgentClient this module uses. */
export interface GuestAgentLike {
  exec(command: string, options?: { timeoutMs?: number }): Promise<{ exitCode: number; stdout: Buffer; stderr: Buffer }>;
}

export interface GuestNetConfig {
  /** NICs to bring up with an address (`ip` is dotted IPv4, `prefix` the subnet's length). */
  configure: { mac: string; ip: string; prefix: number }[];
  /** Static ARP entries: on the NIC with MAC `on`, `ip` is at `mac`. */
  neighbors: { on: string; ip: string; mac: string }[];
  /** The lab's block of /etc/hosts, replacing the previous one. */
  hosts: { ip: string; name: string }[];
  /** NICs (MACs) whose addresses go, if the guest has them: parked NICs that a new NIC replaces on their bridge. */
  unconfigure?: string[];
}

export const HOSTS_BEGIN = '# provium-net begin';
export const HOSTS_END = '# provium-net end';

/** How long the guest waits for a NIC to appear (a hot-plug under TCG takes well under a second). */
const IFACE_WAIT_STEPS = 1200;
const IFACE_WAIT_STEP = '0.05';

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const HOST_NAME = /^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$/;

/** Whether `name` can go into /etc/hosts as one name. */
export function isHostName(name: string): boolean {
  return HOST_NAME.test(name) && name.length <= 253;
}

function check(cfg: GuestNetConfig): void {
  for (const n of cfg.configure) {
    if (!isMac(n.mac) || !IPV4.test(n.ip) || !Number.isInteger(n.prefix) || n.prefix < 1 || n.prefix > 30) {
      throw new Error(`bad NIC configuration ${JSON.stringify(n)}`);
    }
  }
  for (const n of cfg.neighbors) if (!isMac(n.on) || !isMac(n.mac) || !IPV4.test(n.ip)) throw new Error(`bad neighbour entry ${JSON.stringify(n)}`);
  for (const h of cfg.hosts) if (!IPV4.test(h.ip) || !isHostName(h.name)) throw new Error(`bad hosts entry ${JSON.stringify(h)}`);
  for (const m of cfg.unconfigure ?? []) if (!isMac(m)) throw new Error(`bad MAC to unconfigure ${JSON.stringify(m)}`);
}

/** Shell functions: `iface MAC` names the guest's interface with that MAC; `wait_iface MAC` waits for it to appear. */
export const IFACE_FUNCTIONS = [
  'iface() { for n in /sys/class/net/*; do if [ "$(cat "$n/address" 2>/dev/null)" = "$1" ]; then echo "${n##*/}"; return 0; fi; done; return 1; }',
  `wait_iface() { i=0; until iface "$1" >/dev/null; do i=$((i+1)); if [ $i -gt ${IFACE_WAIT_STEPS} ]; then echo "provium-net: no network interface with MAC $1 appeared" >&2; exit 1; fi; sleep ${IFACE_WAIT_STEP}; done; iface "$1"; }`,
];

/** The shell script (busybox sh) that applies `cfg`. Every value in it has been checked against a strict pattern. */
export function guestScript(cfg: GuestNetConfig): string {
  check(cfg);
  const lines = ['set -e', ...IFACE_FUNCTIONS];
  for (const m of cfg.unconfigure ?? []) lines.push(`if e=$(iface '${m}'); then ip addr flush dev "$e"; fi`);
  for (const n of cfg.configure) {
    lines.push(
      `e=$(wait_iface '${n.mac}')`,
      // IPv4 only: no IPv6 autoconfiguration chatter on the lab's wires.
      'echo 1 > "/proc/sys/net/ipv6/conf/$e/disable_ipv6" 2>/dev/null || true',
      'ip addr flush dev "$e"',
      `ip addr add '${n.ip}/${n.prefix}' dev "$e"`,
      'ip link set "$e" up',
    );
  }
  for (const n of cfg.neighbors) lines.push(`arp -i "$(wait_iface '${n.on}')" -s '${n.ip}' '${n.mac}'`);
  const block = [HOSTS_BEGIN, ...cfg.hosts.map((h) => `${h.ip}\t${h.name}`), HOSTS_END];
  lines.push(
    `{ sed '/^${HOSTS_BEGIN}$/,/^${HOSTS_END}$/d' /etc/hosts; printf '%s\\n' ${block.map((l) => `'${l}'`).join(' ')}; } > /etc/hosts.provium-net`,
    'mv /etc/hosts.provium-net /etc/hosts',
  );
  return lines.join('\n') + '\n';
}

/**
 * What a guest holds after `cfg` was applied and no other one since: its
 * neighbour entries and hosts block (names, not the network's ids, so a
 * restored copy of a lab under other ids has the same digest).
 */
export function guestDigest(cfg: GuestNetConfig): string {
  return createHash('sha256').update(JSON.stringify([cfg.neighbors, cfg.hosts])).digest('hex').slice(0, 32);
}

/** Runs guestScript(cfg) through the agent; throws with the guest's stderr when it fails. */
export async function applyGuestConfig(agent: GuestAgentLike, cfg: GuestNetConfig, label: string, timeoutMs = 90_000): Promise<void> {
  await runGuestScript(agent, guestScript(cfg), `${label}: configuring the network in the guest`, timeoutMs);
}

/** Runs a script of this package through the agent; `what` failing names the exit code and the guest's stderr. */
export async function runGuestScript(agent: GuestAgentLike, script: string, what: string, timeoutMs = 90_000): Promise<void> {
  const r = await agent.exec(script, { timeoutMs });
  if (r.exitCode !== 0) throw new Error(`${what} failed (exit ${r.exitCode}): ${r.stderr.toString().trim() || r.stdout.toString().trim()}`);
}
