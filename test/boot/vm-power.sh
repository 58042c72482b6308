#!/bin/sh
# The power supply of one boot-test VM, called by the BMC emulator in front of it. DIR holds the VM: qemu.sh (its
# command line, written by the test), vm.pid (the running VM's `timeout` wrapper), qemu.pid (QEMU's own), serial.log,
# qemu.log, and calls.log (every call, for the test to assert on).
#   sh vm-power.sh DIR get power boot   ipmi_sim chassis_control: power:1 while the VM runs, boot:<device last set>
#   sh vm-power.sh DIR set power 1      ipmi_sim chassis_control: power 1/0 (and shutdown 1) start/stop,
#                                       reset 1 restarts, boot X is kept
#   sh vm-power.sh DIR redfish          redfish-bmc --on-power, with REDFISH_POWER_FROM, _TO and REDFISH_RESET_TYPE
# ipmi_sim answers a request only once the hook has returned, and clients retransmit after 0.5 s (each retransmission
# is another call), so nothing here waits long, and status reads use shell builtins only.
dir=$1
shift

if [ "$1" = redfish ]; then
  echo "redfish $REDFISH_POWER_FROM->$REDFISH_POWER_TO $REDFISH_RESET_TYPE" >>"$dir/calls.log"
else
  echo "$*" >>"$dir/calls.log"
fi

alive() {
  [ -s "$dir/vm.pid" ] || return 1
  read -r pid <"$dir/vm.pid"
  # The third field of /proc/PID/stat is the state. An orphan's zombie (Z) counts as gone: where init does not reap
  # (some containers), it would otherwise stay "on" forever.
  { read -r _ _ state _ <"/proc/$pid/stat"; } 2>/dev/null && [ "$state" != Z ]
}

start() {
  alive && return 0
  # Its own session and no inherited stdio: the BMC must not wait for the VM's output, and a signal to the BMC's process
  # group must not reach the VM. In a non-interactive shell a background job is no group leader, so setsid does not
  # fork, and $! stays the pid of qemu.sh's `exec timeout`.
  setsid sh "$dir/qemu.sh" </dev/null >>"$dir/qemu.log" 2>&1 &
  echo $! >"$dir/vm.pid"
}

stop() {
  alive || return 0
  # timeout passes the TERM on to QEMU, waits for it, then exits.
  kill "$pid"
  for _ in 1 2 3; do
    alive || return 0
    sleep 0.1
  done
}

restart() {
  stop
  # The tap is QEMU's until it exits; the new VM cannot open it before.
  for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
    alive || break
    sleep 0.1
  done
  if alive; then
    kill -9 "$(cat "$dir/qemu.pid")" 2>/dev/null
    sleep 0.2
  fi
  start
}

case "$1" in
get)
  shift
  for item in "$@"; do
    case "$item" in
    power) if alive; then echo power:1; else echo power:0; fi ;;
    *)
      value=0
      [ -f "$dir/$item" ] && read -r value <"$dir/$item"
      echo "$item:$value"
      ;;
    esac
  done
  ;;
set)
  shift
  while [ $# -ge 2 ]; do
    case "$1:$2" in
    power:1) start ;;
    power:0 | shutdown:1) stop ;;
    reset:1) restart ;;
    *) echo "$2" >"$dir/$1" ;;
    esac
    shift 2
  done
  ;;
redfish)
  case "$REDFISH_POWER_TO" in
  Off) stop ;;
  PoweringOn | On)
    # On → PoweringOn is a restart (ForceRestart, GracefulRestart); PoweringOn → On only settles the transition.
    if [ "$REDFISH_POWER_FROM" = On ]; then restart; else start; fi
    ;;
  esac
  ;;
esac
exit 0
