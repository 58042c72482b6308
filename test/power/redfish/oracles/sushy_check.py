"""Drives the test BMC with Debian's python3-sushy and prints one JSON object of what sushy saw.

usage: /usr/bin/python3 sushy_check.py URL USER PASSWORD AUTH(session|basic)
Steps: connect, find the system, read PowerState and the allowed resets, ForceOff, wait for Off, On,
set a boot override (Hdd, Continuous, UEFI), read it back, close the session.
"""
import json
import sys
import time

import sushy
from sushy import auth as sushy_auth

url, user, password, mode = sys.argv[1:5]
auth = sushy_auth.SessionAuth(user, password) if mode == "session" else sushy_auth.BasicAuth(user, password)
root = sushy.Sushy(url, auth=auth, verify=False)
seen = {"steps": []}


def value(enum_or_str):
    """sushy 4.x returns enums; the BMC's own strings are what the test compares."""
    return getattr(enum_or_str, "value", enum_or_str)


systems = root.get_system_collection()
seen["members"] = list(systems.members_identities)
system = root.get_system(seen["members"][0])
seen["identity"] = system.identity
seen["power_before"] = value(system.power_state)
seen["allowed_resets"] = sorted(value(v) for v in system.get_allowed_reset_system_values())

system.reset_system(sushy.RESET_FORCE_OFF)
seen["steps"].append("ForceOff")
for _ in range(100):
    system.refresh()
    if system.power_state == sushy.POWER_STATE_OFF:
        break
    time.sleep(0.05)
seen["power_after_off"] = value(system.power_state)

system.reset_system(sushy.RESET_ON)
seen["steps"].append("On")
for _ in range(100):
    system.refresh()
    if system.power_state == sushy.POWER_STATE_ON:
        break
    time.sleep(0.05)
seen["power_after_on"] = value(system.power_state)

system.set_system_boot_options(sushy.BOOT_SOURCE_TARGET_HDD, enabled=sushy.BOOT_SOURCE_ENABLED_CONTINUOUS,
                               mode=sushy.BOOT_SOURCE_MODE_UEFI)
system.refresh()
seen["boot"] = {
    "target": value(system.boot.target),
    "enabled": value(system.boot.enabled),
    "mode": value(system.boot.mode),
}
auth.close()
print(json.dumps(seen))
