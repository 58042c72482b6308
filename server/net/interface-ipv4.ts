// An interface's IPv4 address and MTU straight from the kernel (ioctl SIOCGIFADDR / SIOCGIFMTU).
// os.networkInterfaces() leaves out interfaces without carrier: a boot bridge whose ports are all down
// (no machine powered on yet) would look absent, and DHCP could not start.
import { FFIType, dlopen, ptr } from "bun:ffi";

const AF_INET = 2;
const SOCK_DGRAM = 2;
const SIOCGIFADDR = 0x8915;
const SIOCGIFMTU = 0x8921;
const IFNAMSIZ = 16;
const IFREQ_SIZE = 40;

function openLibc() {
  return dlopen("libc.so.6", {
    socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    ioctl: { args: [FFIType.i32, FFIType.u64, FFIType.ptr], returns: FFIType.i32 },
    close: { args: [FFIType.i32], returns: FFIType.i32 },
  }).symbols;
}

let libc: ReturnType<typeof openLibc> | undefined;

function query(ifname: string, request: number): Uint8Array | undefined {
  if (Buffer.byteLength(ifname) >= IFNAMSIZ) return undefined;
  libc ??= openLibc();
  const fd = libc.socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return undefined;
  try {
    const ifreq = new Uint8Array(IFREQ_SIZE);
    ifreq.set(new TextEncoder().encode(ifname));
    return libc.ioctl(fd, request, ptr(ifreq)) === 0 ? ifreq : undefined;
  } finally {
    libc.close(fd);
  }
}

/** The interface's primary IPv4 address, or undefined when it has none or does not exist. */
export function interfaceIpv4(ifname: string): string | undefined {
  const ifreq = query(ifname, SIOCGIFADDR);
  // struct sockaddr_in inside the ifreq union: family at 16, port at 18, address at 20.
  return ifreq ? Array.from(ifreq.subarray(20, 24)).join(".") : undefined;
}

export function interfaceMtu(ifname: string): number | undefined {
  const ifreq = query(ifname, SIOCGIFMTU);
  return ifreq ? new DataView(ifreq.buffer).getInt32(16, true) : undefined;
}
