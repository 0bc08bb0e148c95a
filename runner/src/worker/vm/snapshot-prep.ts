/**
 * What the guest runs (as root, through its agent) before a snapshot.
 *
 * Every snapshot: the guest writes back and drops its page cache, so clean
 * cached pages are not stored (they are read again on demand).
 *
 * A snapshot bound for the fixture cache first lets a systemd guest finish
 * booting (`systemctl is-system-running --wait`, at most SETTLE_S seconds):
 * the agent answers long before udev's coldplug, the serial getty's
 * autologin and the other units are done, and a snapshot taken in between
 * makes every resume finish that boot again, on the guest's one vCPU, while
 * the test's first commands wait (under TCG: ~0.3 s of a debian resume's
 * handshake, ~0.6 s of its first command). The guest restored is then one
 * whose boot is over, as a test would expect of a fixture. Guests without
 * systemctl (the default guest: busybox init, which has nothing left to
 * start) skip it.
 *
 * It also leaves out what the guest no longer uses, which would otherwise
 * be stored as it is:
 *   - `fstrim -a` discards the free blocks of every mounted file system that
 *     supports it: blocks written and deleted since boot (apt's downloads and
 *     temporary files) leave the root layer and raw disks, since QEMU opens
 *     them with discard=unmap;
 *   - the memory now free is filled with zeros through a tmpfs of its own and
 *     released: a freed page keeps its old content, which compresses poorly,
 *     and a zero page costs nothing in the compressed RAM. It leaves 1/16 of
 *     the guest's memory and 16 MiB untouched, far above the kernel's
 *     reserves, so nothing is reclaimed or killed.
 * Neither of these changes a file, a mount or a process the guest has after
 * the snapshot (the tmpfs is gone again): only free blocks, the page cache and
 * the content of free memory. Missing tools (a guest without fstrim) skip
 * that step.
 */
export const DROP_CACHES = 'sync; echo 3 > /proc/sys/vm/drop_caches';

const ZERO_DIR = '/dev/.provium-zero';
/** How long a fixture's snapshot waits for a systemd guest's boot to finish (a unit that hangs must not hold the build for ever). */
const SETTLE_S = 120;

export const SHRINK_FOR_CACHE = [
  `command -v systemctl >/dev/null 2>&1 && timeout ${SETTLE_S} systemctl is-system-running --wait >/dev/null 2>&1`,
  'sync',
  'command -v fstrim >/dev/null 2>&1 && fstrim -a >/dev/null 2>&1',
  'echo 3 > /proc/sys/vm/drop_caches',
  `kb=$(awk '/^MemTotal:/ {t=$2} /^MemAvailable:/ {a=$2} END {n=a-t/16-16384; print (n>1024 ? int(n) : 0)}' /proc/meminfo)`,
  `if [ "$kb" -gt 0 ] && mkdir ${ZERO_DIR} 2>/dev/null; then`,
  `  mount -t tmpfs -o size=\${kb}k provium-zero ${ZERO_DIR} && { dd if=/dev/zero of=${ZERO_DIR}/zero bs=1M count=$((kb / 1024)) 2>/dev/null; umount ${ZERO_DIR}; }`,
  `  rmdir ${ZERO_DIR}`,
  'fi',
  'true',
].join('\n');
