// Raw IPv6 sockets through libc: node:dgram and Bun.udpSocket only do UDP.
// Linux only (glibc's libc.so.6): constants are Linux's, struct layouts those of 64-bit little-endian Linux.
import { dlopen, FFIType, ptr, read } from "bun:ffi";
import { constants } from "node:os";

export const AF_INET6 = 10;
export const SOCK_RAW = 3;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const SO_BINDTODEVICE = 25;
export const IPPROTO_IPV6 = 41;
export const IPV6_UNICAST_HOPS = 16;
export const IPV6_MULTICAST_IF = 17;
export const IPV6_MULTICAST_HOPS = 18;
export const IPV6_MULTICAST_LOOP = 19;
export const IPV6_JOIN_GROUP = 20;
export const IPPROTO_ICMPV6 = 58;
export const ICMP6_FILTER = 1;
export const MSG_DONTWAIT = 0x40;

const EAGAIN = 11;
const SOCKADDR_IN6_SIZE = 28;

function openLibc() {
  return dlopen("libc.so.6", {
    socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    setsockopt: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
    sendto: {
      args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32, FFIType.ptr, FFIType.u32],
      returns: FFIType.i64,
    },
    recvfrom: {
      args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32, FFIType.ptr, FFIType.ptr],
      returns: FFIType.i64,
    },
    close: { args: [FFIType.i32], returns: FFIType.i32 },
    if_nametoindex: { args: [FFIType.ptr], returns: FFIType.u32 },
    __errno_location: { args: [], returns: FFIType.ptr },
  }).symbols;
}

// Opened on first use, so importing this module costs nothing where it is never called.
let libcSymbols: ReturnType<typeof openLibc> | undefined;
function libc(): ReturnType<typeof openLibc> {
  libcSymbols ??= openLibc();
  return libcSymbols;
}

/** A failed libc call; `code` is the errno name (`ENODEV`, `EPERM`, …). */
export class SyscallError extends Error {
  readonly code: string;
  constructor(
    readonly call: string,
    readonly errno: number,
  ) {
    const code = errnoName(errno);
    super(`${call}: ${code}`);
    this.name = "SyscallError";
    this.code = code;
  }
}

function errnoName(errno: number): string {
  for (const [name, value] of Object.entries(constants.errno)) if (value === errno) return name;
  return `errno ${errno}`;
}

function lastErrno(): number {
  const location = libc().__errno_location();
  return location === null ? 0 : read.i32(location);
}

function check(call: string, result: number | bigint): number {
  const n = Number(result);
  if (n < 0) throw new SyscallError(call, lastErrno());
  return n;
}

function cString(text: string): Buffer {
  return Buffer.from(`${text}\0`);
}

/** The interface's index, or 0 when there is no such interface. */
export function ifNameToIndex(name: string): number {
  return libc().if_nametoindex(ptr(cString(name)));
}

export function openSocket(domain: number, type: number, protocol: number): number {
  return check("socket", libc().socket(domain, type, protocol));
}

export function setSockOpt(fd: number, level: number, name: number, value: Uint8Array): void {
  check("setsockopt", libc().setsockopt(fd, level, name, ptr(value), value.byteLength));
}

export function setSockOptInt(fd: number, level: number, name: number, value: number): void {
  setSockOpt(fd, level, name, new Uint8Array(new Int32Array([value]).buffer));
}

export function closeFd(fd: number): void {
  libc().close(fd);
}

/** sockaddr_in6 for `address` (16 bytes) with the given scope id; port 0, as raw sockets want. */
export function sockaddrIn6(address: Uint8Array, scopeId: number): Uint8Array {
  const sa = new Uint8Array(SOCKADDR_IN6_SIZE);
  const view = new DataView(sa.buffer);
  view.setUint16(0, AF_INET6, true);
  sa.set(address, 8);
  view.setUint32(24, scopeId, true);
  return sa;
}

export function sendTo(fd: number, data: Uint8Array, to: Uint8Array): void {
  check("sendto", libc().sendto(fd, ptr(data), data.byteLength, 0, ptr(to), to.byteLength));
}

/** One datagram into `buffer` without waiting; its length, or undefined when none is queued. */
export function receiveNow(fd: number, buffer: Uint8Array): number | undefined {
  const result = Number(libc().recvfrom(fd, ptr(buffer), buffer.byteLength, MSG_DONTWAIT, null, null));
  if (result >= 0) return result;
  const errno = lastErrno();
  if (errno === EAGAIN) return undefined;
  throw new SyscallError("recvfrom", errno);
}
