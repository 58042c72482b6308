// UDP sockets pinned to one interface (SO_BINDTODEVICE), which DHCP needs on Linux: a socket on
// 0.0.0.0:67 hears every link and sends 255.255.255.255 along the default route, while one bound to
// the interface address never sees broadcasts (dhcp-tftp-http.md §6). Neither node:dgram nor
// Bun.udpSocket can set the option, so we call libc through bun:ffi.
//
// openDeviceSocket creates the socket itself (socket, setsockopt, bind) and hands the bound fd to
// Bun.udpSocket, which adopts it (its undocumented `fd` option). Pinning before bind() means the
// socket never hears another link, not even for the microseconds between bind and setsockopt, and
// several sockets can share port 67 without fighting over it. pinToDevice pins an existing socket,
// whose fd socketFd finds on a Bun.udpSocket (`.fd`) or a node:dgram socket (its handle's `.fd`).
//
// Bun.udpSocket rather than node:dgram: on loopback echo both move ≈38-40k datagrams/s (the client
// was the limit), but Bun's node:dgram resolves every destination through dns.lookup and reads the
// buffer after send() returns, while Bun.udpSocket copies it into the kernel at once.
// Linux only (glibc's libc.so.6); the constants are Linux's generic ones (x86-64, arm64).
import { dlopen, FFIType, ptr, read } from "bun:ffi";

const AF_INET = 2;
const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_REUSEADDR = 2;
const SO_BROADCAST = 6;
const SO_RCVBUF = 8;
const SO_RCVBUFFORCE = 33;
const SO_BINDTODEVICE = 25;
const SOCKADDR_IN_SIZE = 16;
/** Linux's IFNAMSIZ less the NUL. */
const MAX_IFNAME = 15;

export const DEFAULT_RECEIVE_BUFFER = 8 * 1024 * 1024;

const ERRNO_NAMES: Readonly<Record<number, string>> = {
  1: "EPERM",
  9: "EBADF",
  13: "EACCES",
  19: "ENODEV",
  22: "EINVAL",
  88: "ENOTSOCK",
  92: "ENOPROTOOPT",
  98: "EADDRINUSE",
  99: "EADDRNOTAVAIL",
};

/** Pinning or binding failed; `errno` is the Linux error number. */
export class DeviceSocketError extends Error {
  override readonly name = "DeviceSocketError";
  constructor(
    message: string,
    readonly errno: number,
  ) {
    super(message);
  }
}

type Libc = ReturnType<typeof openLibc>;
let libc: Libc | undefined;

function openLibc() {
  return dlopen("libc.so.6", {
    socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    setsockopt: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
    getsockopt: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
    bind: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
    close: { args: [FFIType.i32], returns: FFIType.i32 },
    __errno_location: { args: [], returns: FFIType.ptr },
  }).symbols;
}

function c(): Libc {
  if (process.platform !== "linux") throw new DeviceSocketError("pinning a socket to an interface needs Linux (SO_BINDTODEVICE)", 0);
  libc ??= openLibc();
  return libc;
}

function errno(): number {
  const at = c().__errno_location();
  return at === null ? 0 : read.i32(at, 0);
}

function describeErrno(code: number): string {
  return ERRNO_NAMES[code] ?? `errno ${code}`;
}

const textEncoder = new TextEncoder();

/**
 * setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname): from now on the socket only receives datagrams
 * that arrived on `ifname` and sends out of it. Throws DeviceSocketError with the reason.
 */
export function pinToDevice(fd: number, ifname: string): void {
  checkInterfaceName(ifname);
  const name = textEncoder.encode(`${ifname}\0`);
  if (c().setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ptr(name), name.length) !== 0) {
    const code = errno();
    const hint =
      code === 19 ? `no interface named ${ifname} (in this network namespace)`
      : code === 1 ? "needs CAP_NET_RAW (run as root or grant the capability)"
      : describeErrno(code);
    throw new DeviceSocketError(`cannot pin socket to ${ifname}: ${hint}`, code);
  }
}

/** SO_BROADCAST on, so replies to 255.255.255.255 are allowed. */
export function enableBroadcast(fd: number): void {
  setIntOption(fd, SO_BROADCAST, 1, "SO_BROADCAST");
}

/**
 * A receive buffer of `bytes` (a DISCOVER storm must queue, not drop): SO_RCVBUFFORCE, which ignores
 * net.core.rmem_max but needs CAP_NET_ADMIN, else SO_RCVBUF (capped by rmem_max). Returns what the
 * kernel granted (it doubles the request for bookkeeping).
 */
export function setReceiveBuffer(fd: number, bytes: number): number {
  const value = new Int32Array([bytes]);
  if (c().setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, ptr(value), 4) !== 0) {
    if (c().setsockopt(fd, SOL_SOCKET, SO_RCVBUF, ptr(value), 4) !== 0) {
      throw new DeviceSocketError(`cannot set SO_RCVBUF: ${describeErrno(errno())}`, errno());
    }
  }
  const granted = new Int32Array(1);
  const size = new Uint32Array([4]);
  return c().getsockopt(fd, SOL_SOCKET, SO_RCVBUF, ptr(granted), ptr(size)) === 0 ? granted[0]! : bytes;
}

/** The file descriptor of a Bun.udpSocket, or of a bound node:dgram socket under Bun; undefined if it has none. */
export function socketFd(socket: object): number | undefined {
  const direct = numericProperty(socket, "fd");
  if (direct !== undefined) return direct;
  // Bun's node:dgram keeps a Bun.udpSocket in its state symbol's `handle` once bound.
  for (const symbol of Object.getOwnPropertySymbols(socket)) {
    const state: unknown = Reflect.get(socket, symbol);
    const handle: unknown = isObject(state) ? Reflect.get(state, "handle") : undefined;
    const fd = isObject(handle) ? numericProperty(handle, "fd") : undefined;
    if (fd !== undefined) return fd;
  }
  return undefined;
}

export type DatagramHandler = (data: Uint8Array, fromAddress: string, fromPort: number) => void;

export interface DeviceSocket {
  readonly ifname: string;
  /** The bound port (the kernel's pick when 0 was asked for). */
  readonly port: number;
  readonly fd: number;
  /** What the kernel granted for SO_RCVBUF. */
  readonly receiveBuffer: number;
  /** Sends `data`; false if it could not (buffer full, unreachable): a lost datagram, never an exception. */
  send(data: Uint8Array, port: number, address: string): boolean;
  close(): void;
}

export interface DeviceSocketOptions {
  ifname: string;
  port: number;
  /** Default 0.0.0.0: DHCP must hear broadcasts. */
  address?: string;
  receiveBuffer?: number;
  onDatagram: DatagramHandler;
  /** Socket-level errors (ICMP unreachable reported on a later call and the like). */
  onError?: (error: Error) => void;
}

/**
 * A UDP socket on `address:port`, pinned to `ifname` before it is bound, with SO_REUSEADDR,
 * SO_BROADCAST and a large receive buffer. Throws DeviceSocketError (no such interface, port taken,
 * no privilege).
 */
export async function openDeviceSocket(options: DeviceSocketOptions): Promise<DeviceSocket> {
  const { ifname, port } = options;
  const address = options.address ?? "0.0.0.0";
  const sockaddr = socketAddress(address, port);
  const fd = c().socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new DeviceSocketError(`socket(): ${describeErrno(errno())}`, errno());
  let receiveBuffer: number;
  try {
    setIntOption(fd, SO_REUSEADDR, 1, "SO_REUSEADDR");
    enableBroadcast(fd);
    receiveBuffer = setReceiveBuffer(fd, options.receiveBuffer ?? DEFAULT_RECEIVE_BUFFER);
    pinToDevice(fd, ifname);
    if (c().bind(fd, ptr(sockaddr), SOCKADDR_IN_SIZE) !== 0) {
      const code = errno();
      const hint = code === 13 ? `port ${port} needs root or CAP_NET_BIND_SERVICE` : describeErrno(code);
      throw new DeviceSocketError(`cannot bind ${address}:${port} on ${ifname}: ${hint}`, code);
    }
  } catch (error) {
    c().close(fd);
    throw error;
  }

  const onDatagram = options.onDatagram;
  const onError = options.onError ?? (() => {});
  let socket: AdoptedSocket;
  try {
    socket = await adoptUdpSocket({
      fd,
      socket: {
        data(_socket, data, fromPort, fromAddress) {
          onDatagram(data, fromAddress, fromPort);
        },
        // Without an error handler, Bun turns a late ICMP error into an uncaught exception.
        error(_socket, error) {
          onError(error);
        },
      },
    });
  } catch (error) {
    c().close(fd);
    throw error;
  }

  let closed = false;
  return {
    ifname,
    port: socket.port,
    fd,
    receiveBuffer,
    send(data, toPort, toAddress) {
      if (closed) return false;
      try {
        return socket.send(data, toPort, toAddress);
      } catch (error) {
        // Bun reports an earlier datagram's ICMP error (ECONNREFUSED...) by throwing from this call.
        onError(error instanceof Error ? error : new Error(String(error)));
        return false;
      }
    },
    close() {
      if (closed) return;
      closed = true;
      socket.close();
    },
  };
}

type AdoptedSocket = Bun.udp.Socket<"uint8array">;
type AdoptOptions = Bun.udp.SocketOptions<"uint8array"> & { fd: number };

/** Bun.udpSocket adopting a bound fd; `fd` is not in bun-types, hence the narrowing cast. */
function adoptUdpSocket(options: Omit<AdoptOptions, "binaryType">): Promise<AdoptedSocket> {
  const udpSocket = Bun.udpSocket as unknown as (o: AdoptOptions) => Promise<AdoptedSocket>;
  return udpSocket({ ...options, binaryType: "uint8array" });
}

function setIntOption(fd: number, option: number, value: number, name: string): void {
  const v = new Int32Array([value]);
  if (c().setsockopt(fd, SOL_SOCKET, option, ptr(v), 4) !== 0) {
    const code = errno();
    throw new DeviceSocketError(`cannot set ${name}: ${describeErrno(code)}`, code);
  }
}

function socketAddress(address: string, port: number): Uint8Array {
  const parts = address.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new DeviceSocketError(`${address} is not an IPv4 address`, 22);
  }
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) throw new DeviceSocketError(`bad port ${port}`, 22);
  const sa = new Uint8Array(SOCKADDR_IN_SIZE);
  sa[0] = AF_INET; // sa_family, little-endian u16 on every Linux Bun runs on
  sa[2] = port >>> 8;
  sa[3] = port & 0xff;
  sa.set(parts, 4);
  return sa;
}

function checkInterfaceName(ifname: string): void {
  if (ifname.length === 0 || ifname.length > MAX_IFNAME || /[\0/\s]/.test(ifname)) {
    throw new DeviceSocketError(`"${ifname}" is not a valid interface name`, 22);
  }
}

function isObject(value: unknown): value is object {
  return typeof value === "object" && value !== null;
}

function numericProperty(target: object, key: string): number | undefined {
  const value: unknown = Reflect.get(target, key);
  return typeof value === "number" && Number.isInteger(value) && value >= 0 ? value : undefined;
}
