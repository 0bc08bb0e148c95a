#!/usr/bin/env bash
# Installs everything Provium needs on Debian 12 and builds the workspace.
# Idempotent: a re-run on a ready machine skips apt entirely and only refreshes
# node_modules and the build. Runs unattended (CI=true, no stdin) as root, or
# as a user with sudo.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# ---------------------------------------------------------------------------
# Debian packages. Shared list: append new packages here, one per line, with
# the reason. Everything the project needs from apt must be in this array.
# ---------------------------------------------------------------------------
APT_PACKAGES=(
  qemu-system-x86        # qemu-system-x86_64: runs the guests
  qemu-utils             # qemu-img
  busybox-static         # userland of the default guest image
  zstd                   # snapshot / fixture compression
  xz-utils               # unpacks the guest kernel (vmlinux for direct PVH boot)
  cpio                   # inspecting initramfs archives
  util-linux             # setpriv
  gcc                    # builds the static guest agent
  libc6-dev
  make
  lua-busted             # peer in the runner benchmark
  neovim                 # editor tests (LSP client)
  emacs-nox              # editor tests (LSP client)
  elpa-eglot             # Emacs LSP client (eglot)
  elpa-lsp-mode          # Emacs LSP client (lsp-mode), tested with the docs' set-up
  iproute2               # host-side bridges and taps
  mmdebstrap             # builds the debian guest's root tree from Debian's mirror
  e2fsprogs              # mke2fs -d: the debian guest's ext4 root without loop mounts
  uidmap                 # newuidmap/newgidmap: mmdebstrap --mode=unshare when not root
  fakeroot               # turns the rootless (unshare) tree tarball into ext4 with root owners
  nginx                  # remote fixture cache tests: a WebDAV (PUT/DELETE) server on loopback; Debian 12's nginx has http_dav_module
  tcpdump                # packet capture tests: reads the .pcap a capture stream writes (tcpdump -r)
)
# ------------------------------- end of list -------------------------------

# The default guest image downloads this kernel package with `apt-get download`
# at build time, so the package lists must know it (no install on the host).
KERNEL_META_PACKAGE=linux-image-amd64

log() { printf 'setup: %s\n' "$*"; }

if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo)
else
  SUDO=()
fi

package_installed() {
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = "installed" ]
}

apt_knows_kernel() {
  # No pipe into `grep -q`: with pipefail its early exit would fail apt-cache.
  local policy
  policy="$(apt-cache policy "$KERNEL_META_PACKAGE" 2>/dev/null || true)"
  [[ "$policy" == *"Candidate: "[0-9]* ]]
}

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  package_installed "$pkg" || missing+=("$pkg")
done

if [ "${#missing[@]}" -eq 0 ] && apt_knows_kernel; then
  log "Debian packages: all ${#APT_PACKAGES[@]} present, apt skipped"
else
  if [ "$(id -u)" -ne 0 ] && [ "${#SUDO[@]}" -eq 0 ]; then
    log "missing Debian packages: ${missing[*]:-none} (and/or stale package lists); run this script as root or install sudo" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  log "apt-get update"
  "${SUDO[@]}" apt-get update -q
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing: ${missing[*]}"
    # No service starts while packages install (nginx would take port 80; the tests
    # start their own on loopback): a temporary policy-rc.d, unless one is there already.
    policy=/usr/sbin/policy-rc.d
    own_policy=
    if [ ! -e "$policy" ]; then
      printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
      "${SUDO[@]}" chmod 755 "$policy"
      own_policy=1
    fi
    status=0
    "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" || status=$?
    if [ -n "$own_policy" ]; then "${SUDO[@]}" rm -f "$policy"; fi
    [ "$status" -eq 0 ] || exit "$status"
  fi
  if ! apt_knows_kernel; then
    log "apt has no candidate for $KERNEL_META_PACKAGE after update; check /etc/apt/sources.list" >&2
    exit 1
  fi
fi

# ---------------------------------------------------------------------------
# npm workspace: exact install from the lock file when there is one, then build.
# ---------------------------------------------------------------------------
if [ "${SETUP_SKIP_NPM:-}" = "1" ]; then
  log "npm skipped (SETUP_SKIP_NPM=1)"
  exit 0
fi

cd "$REPO_ROOT"
if [ -f package-lock.json ]; then
  log "npm ci"
  npm ci --no-audit --no-fund
else
  log "npm install (no package-lock.json)"
  npm install --no-audit --no-fund
fi
log "npm run build"
npm run build

# `provium` on the PATH, so it works from any project directory (npx provium works here regardless).
if [ "${SETUP_SKIP_LINK:-}" = "1" ]; then
  log "npm link skipped (SETUP_SKIP_LINK=1)"
elif (cd runner && npm link --no-audit --no-fund >/dev/null 2>&1); then
  log "provium linked into $(npm prefix -g)/bin"
else
  log "could not npm link the provium command (no write access to $(npm prefix -g)?); use npx provium from this checkout"
fi
log "done"
