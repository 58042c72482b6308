#!/bin/sh
# Host keys are made on each node at boot, never baked into the image: every node gets its own,
# and the image stays byte-identical across rebuilds.
set -eu
root="$1"
rm -f "$root"/etc/ssh/ssh_host_*
mkdir -p "$root/etc/systemd/system/ssh.service.d"
cat > "$root/etc/systemd/system/ssh.service.d/host-keys.conf" <<'UNIT'
[Service]
ExecStartPre=/usr/bin/ssh-keygen -A
UNIT
