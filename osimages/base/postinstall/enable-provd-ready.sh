#!/bin/sh
# postinstall: $1 = image root, $2 = osvers, $3 = arch, $4 = profile (xCAT's order). Runs outside the image.
set -eu
root="$1"
chmod 0755 "$root/usr/local/sbin/provd-ready"
chroot "$root" systemctl enable provd-ready.service
# No host's name baked into the image; live-boot and DHCP name the node at boot.
echo localhost > "$root/etc/hostname"
