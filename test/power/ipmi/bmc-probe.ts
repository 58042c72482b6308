// Free UDP ports, "is a BMC answering yet" for the emulator launchers, and the BmcError a test expects.
import { readFileSync, writeFileSync } from "node:fs";
import { BmcError } from "../../../server/power/driver.ts";
import { NetFn, encodeRequest } from "../../../server/power/ipmi/message.ts";
import { encodeSessionless15 } from "../../../server/power/ipmi/rmcp.ts";

/** Ports the kernel just handed out on 127.0.0.1 and took back (a small race with other tests, accepted). */
export async function freeUdpPorts(count: number): Promise<number[]> {
  const sockets = await Promise.all(Array.from({ length: count }, () => Bun.udpSocket({ hostname: "127.0.0.1", port: 0 })));
  const ports = sockets.map((socket) => socket.port);
  for (const socket of sockets) socket.close();
  return ports;
}

const GET_CHANNEL_AUTH_CAPS = encodeSessionless15(encodeRequest({ netFn: NetFn.app, cmd: 0x38, data: Uint8Array.of(0x8e, 0x04) }, 1));

/** Resolves once every port answers Get Channel Authentication Capabilities; rejects after `timeoutMs`. */
export async function waitForBmcs(ports: readonly number[], timeoutMs = 10_000): Promise<void> {
  const pending = new Set(ports);
  const socket = await Bun.udpSocket({
    hostname: "127.0.0.1",
    socket: {
      data(_socket, _data, port) {
        pending.delete(port);
      },
      // ICMP port unreachable while a BMC is still starting: without a handler Bun throws it uncaught.
      error() {},
    },
  });
  try {
    const deadline = Date.now() + timeoutMs;
    while (pending.size > 0) {
      if (Date.now() > deadline) throw new Error(`BMCs on ports ${[...pending].join(", ")} did not answer within ${timeoutMs} ms`);
      for (const port of pending) {
        try {
          socket.send(GET_CHANNEL_AUTH_CAPS, port, "127.0.0.1");
        } catch {
          // A pending ICMP error surfaces on the next send: the BMC is not up yet.
        }
      }
      await Bun.sleep(50);
    }
  } finally {
    socket.close();
  }
}

/** Waits until `condition` holds, polling; false if it never did within `timeoutMs`. */
export async function eventually(condition: () => boolean, timeoutMs = 3000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await Bun.sleep(20);
  }
  return true;
}

/** The BmcError a promise rejects with; anything else (or success) fails the test. */
export async function failure(promise: Promise<unknown>): Promise<BmcError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof BmcError) return error;
    throw error;
  }
  throw new Error("expected a BmcError, got success");
}

/** What a BMC's power hook logged, one line per call, oldest first; and a way to start the log afresh. */
export function hookLog(path: string): { calls(): string[]; clearCalls(): void } {
  return {
    calls() {
      try {
        return readFileSync(path, "utf8").split("\n").filter((line) => line !== "");
      } catch {
        return [];
      }
    },
    clearCalls() {
      writeFileSync(path, "");
    },
  };
}

