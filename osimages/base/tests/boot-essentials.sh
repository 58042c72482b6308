#!/bin/sh
# Validation, run inside the built image: what a netboot needs must be there, or 'latest' does not move.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
[ -x /sbin/init ] || fail "no /sbin/init"
ls /lib/modules/*/kernel >/dev/null 2>&1 || fail "no kernel modules"
[ -d /lib/live/boot ] || fail "live-boot is not installed"
systemctl is-enabled provd-ready.service >/dev/null || fail "provd-ready.service is not enabled"
# The exlist took the sound modules out; finding them means it matched nothing (a path that moved, say).
ls -d /lib/modules/*/kernel/sound >/dev/null 2>&1 && fail "sound modules are still in the image: base.exlist did not apply"
echo "ok: init, kernel modules (trimmed), live-boot, provd-ready.service (image ${PROVD_IMAGE_ID:-?})"
