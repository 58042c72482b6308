// Pinning sockets: only loopback and plain (non-DHCP) datagrams here; pinning on real links is
// exercised in netns.test.ts.
import dgram from "node:dgram";
import { readdirSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { DeviceSocketError, openDeviceSocket, pinToDevice, socketFd } from "../../server/dhcp/bind-device.ts";
import { isRoot } from "./fixtures/netns.ts";

const openFds = () => readdirSync("/proc/self/fd").length;

describe("socket pinning", () => {
  test("finds the fd of a Bun.udpSocket and of a node:dgram socket", async () => {
    const bunSocket = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0 });
    const node = dgram.createSocket("udp4");
    await new Promise<void>((resolve) => node.bind(0, "127.0.0.1", resolve));
    try {
      const bunFd = socketFd(bunSocket);
      const nodeFd = socketFd(node);
      expect(bunFd).toBeGreaterThan(2);
      expect(nodeFd).toBeGreaterThan(2);
      expect(nodeFd).not.toBe(bunFd);
      if (isRoot()) {
        expect(() => pinToDevice(bunFd!, "lo")).not.toThrow();
        expect(() => pinToDevice(nodeFd!, "lo")).not.toThrow();
      }
    } finally {
      bunSocket.close();
      node.close();
    }
    expect(socketFd({})).toBeUndefined();
  });

  test.skipIf(!isRoot())("a pinned socket receives on its interface and gives its fd back on close (root: SO_BINDTODEVICE)", async () => {
    const fdsBefore = openFds();
    const got: string[] = [];
    const socket = await openDeviceSocket({ ifname: "lo", port: 0, onDatagram: (data, from) => got.push(`${new TextDecoder().decode(data)} from ${from}`) });
    const sender = await Bun.udpSocket({});
    try {
      expect(socket.port).toBeGreaterThan(0);
      expect(socket.receiveBuffer).toBeGreaterThanOrEqual(1024 * 1024);
      sender.send("hello", socket.port, "127.0.0.1");
      for (let i = 0; i < 100 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(got).toEqual(["hello from 127.0.0.1"]);
      // A send that fails is reported, not thrown.
      expect(typeof socket.send(new Uint8Array(4), 9, "127.0.0.1")).toBe("boolean");
    } finally {
      socket.close();
      sender.close();
    }
    await new Promise((r) => setTimeout(r, 10));
    expect(openFds()).toBe(fdsBefore);
  });

  test("a missing interface is a clear error, and the half-made socket is closed", async () => {
    const before = openFds();
    const opening = openDeviceSocket({ ifname: "nosuchif0", port: 0, onDatagram() {} });
    await expect(opening).rejects.toBeInstanceOf(DeviceSocketError);
    await expect(opening).rejects.toThrow(isRoot() ? /cannot pin socket to nosuchif0: no interface named nosuchif0/ : /cannot pin socket to nosuchif0/);
    expect(openFds()).toBe(before);
  });

  test("invalid interface names are refused before any system call", () => {
    expect(() => pinToDevice(0, "")).toThrow(DeviceSocketError);
    expect(() => pinToDevice(0, "a-name-longer-than-15")).toThrow(/not a valid interface name/);
  });
});
