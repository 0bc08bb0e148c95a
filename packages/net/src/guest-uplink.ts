/**
 * The guest side of the uplink, through the agent: the uplink NIC (found by
 * its MAC) gets UPLINK_GUEST/24, the default route goes through
 * UPLINK_GATEWAY and /etc/resolv.conf names UPLINK_DNS first, in a block
 * between `# provium-net uplink begin/end`. Taking the uplink away removes
 * the route and the block. Commands common to busybox and Debian (iproute2,
 * sed, cat).
 */
import { isMac } from './frame.js';
import { IFACE_FUNCTIONS } from './guest.js';
import { UPLINK_DNS, UPLINK_GATEWAY, UPLINK_GUEST } from './qemu-devices.js';

export const RESOLV_BEGIN = '# provium-net uplink begin';
export const RESOLV_END = '# provium-net uplink end';

const RESOLV = '/etc/resolv.conf';
const RESOLV_TMP = '/etc/resolv.conf.provium-net';

/** The resolv.conf without our block, into RESOLV_TMP (after `prepend` lines). */
function rewriteResolv(prepend: string[]): string[] {
  const print = prepend.length ? `printf '%s\\n' ${prepend.map((l) => `'${l}'`).join(' ')}; ` : '';
  return [
    `{ ${print}if [ -e ${RESOLV} ]; then sed '/^${RESOLV_BEGIN}$/,/^${RESOLV_END}$/d' ${RESOLV}; fi; } > ${RESOLV_TMP}`,
    // Written through, not renamed over: a resolv.conf that is a symlink (resolvconf, systemd-resolved) stays one.
    `cat ${RESOLV_TMP} > ${RESOLV}`,
    `rm -f ${RESOLV_TMP}`,
  ];
}

function checkMac(mac: string): void {
  if (!isMac(mac)) throw new Error(`bad uplink MAC ${JSON.stringify(mac)}`);
}

/** The script that configures the uplink NIC `mac` (waiting for a hot-plugged one to appear). */
export function uplinkUpScript(mac: string): string {
  checkMac(mac);
  return [
    'set -e',
    ...IFACE_FUNCTIONS,
    `e=$(wait_iface '${mac}')`,
    'echo 1 > "/proc/sys/net/ipv6/conf/$e/disable_ipv6" 2>/dev/null || true',
    'ip addr flush dev "$e"',
    `ip addr add '${UPLINK_GUEST}/24' dev "$e"`,
    'ip link set "$e" up',
    `ip route replace default via '${UPLINK_GATEWAY}' dev "$e"`,
    ...rewriteResolv([RESOLV_BEGIN, `nameserver ${UPLINK_DNS}`, RESOLV_END]),
  ].join('\n') + '\n';
}

/**
 * The script that takes the uplink's settings out of the guest: the default
 * route through the gateway and the resolv.conf block; with `mac`, that NIC's
 * address too (a parked uplink NIC that stays in the guest).
 */
export function uplinkDownScript(mac?: string): string {
  if (mac !== undefined) checkMac(mac);
  return [
    'set -e',
    ...IFACE_FUNCTIONS,
    `ip route del default via '${UPLINK_GATEWAY}' 2>/dev/null || true`,
    ...(mac === undefined ? [] : [`if e=$(iface '${mac}'); then ip addr flush dev "$e"; fi`]),
    `if [ -e ${RESOLV} ]; then`,
    ...rewriteResolv([]),
    'fi',
  ].join('\n') + '\n';
}
