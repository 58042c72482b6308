#!/bin/sh
set -eu
for tool in sshd chronyd numactl lstopo-no-graphics rsync ethtool lspci; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool missing"; exit 1; }
done
ls /etc/ssh/ssh_host_* >/dev/null 2>&1 && { echo "FAIL: SSH host keys baked into the image"; exit 1; }
echo "ok: compute tools present, no host keys baked in"
