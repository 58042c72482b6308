import { describe, expect, test } from "vitest";
import {
  TftpDecodeError,
  decodePacket,
  encodeAck,
  encodeData,
  encodeError,
  encodeOack,
  encodeRequest,
} from "../../server/tftp/packet.ts";
import { mutate, randomDatagram, seededRandom } from "./fuzz.ts";

const bytes = (...values: number[]) => new Uint8Array(values);
const ascii = (text: string) => new TextEncoder().encode(text);

describe("TFTP packet codec", () => {
  test("RRQ round-trips with options in order", () => {
    const wire = encodeRequest("RRQ", "boot/snponly.efi", "octet", [
      ["tsize", "0"],
      ["blksize", "1468"],
      ["windowsize", "4"],
    ]);
    expect(Array.from(wire.subarray(0, 2))).toEqual([0, 1]);
    const packet = decodePacket(wire);
    expect(packet).toEqual({
      op: "RRQ",
      filename: "boot/snponly.efi",
      mode: "octet",
      options: new Map([
        ["tsize", "0"],
        ["blksize", "1468"],
        ["windowsize", "4"],
      ]),
    });
  });

  test("mode and option names are case-insensitive; the first duplicate wins", () => {
    const packet = decodePacket(ascii("\0\x01File.BIN\0OcTeT\0BLKSIZE\x001024\0blksize\x00512\0TSize\x000\0"));
    expect(packet).toMatchObject({ op: "RRQ", filename: "File.BIN", mode: "octet" });
    if (packet.op !== "RRQ") throw new Error("not an RRQ");
    expect(packet.options.get("blksize")).toBe("1024");
    expect(packet.options.get("tsize")).toBe("0");
  });

  test("tolerates NUL padding and a dangling option name after the mode", () => {
    const padded = decodePacket(ascii("\0\x01a\0octet\0\0\0\0"));
    expect(padded).toMatchObject({ op: "RRQ", filename: "a", mode: "octet" });
    const dangling = decodePacket(ascii("\0\x01a\0octet\0blksize\x00512\0tsize\0"));
    if (dangling.op !== "RRQ") throw new Error("not an RRQ");
    expect([...dangling.options]).toEqual([["blksize", "512"]]);
    const unterminated = decodePacket(ascii("\0\x01a\0octet\0blksize\x00512"));
    if (unterminated.op !== "RRQ") throw new Error("not an RRQ");
    expect(unterminated.options.size).toBe(0);
  });

  test("WRQ, DATA, ACK, ERROR and OACK decode", () => {
    expect(decodePacket(encodeRequest("WRQ", "x", "octet"))).toMatchObject({ op: "WRQ", filename: "x" });
    const data = decodePacket(encodeData(0x1234, bytes(9, 8, 7)));
    expect(data.op === "DATA" && data.block === 0x1234 && Array.from(data.data)).toEqual([9, 8, 7]);
    expect(decodePacket(encodeData(7, new Uint8Array(0)))).toMatchObject({ op: "DATA", block: 7 });
    expect(decodePacket(encodeAck(65535))).toEqual({ op: "ACK", block: 65535 });
    expect(decodePacket(encodeAck(65536))).toEqual({ op: "ACK", block: 0 });
    expect(decodePacket(encodeError(8, "User aborted the transfer"))).toEqual({
      op: "ERROR",
      code: 8,
      message: "User aborted the transfer",
    });
    expect(decodePacket(bytes(0, 5, 0, 1))).toEqual({ op: "ERROR", code: 1, message: "" });
    expect(decodePacket(bytes(0, 5, 0, 2, 0x68, 0x69))).toEqual({ op: "ERROR", code: 2, message: "hi" });
    expect(decodePacket(encodeOack([["blksize", "1468"], ["tsize", "173792"]]))).toEqual({
      op: "OACK",
      options: new Map([
        ["blksize", "1468"],
        ["tsize", "173792"],
      ]),
    });
  });

  test("encodeError puts the code in bytes 2-3 and NUL-terminates the message", () => {
    expect(Array.from(encodeError(5, "no"))).toEqual([0, 5, 0, 5, 0x6e, 0x6f, 0]);
  });

  test.each([
    ["empty", bytes()],
    ["one byte", bytes(0)],
    ["three bytes", bytes(0, 4, 0)],
    ["opcode 0", bytes(0, 0, 0, 0)],
    ["opcode 7", bytes(0, 7, 0, 0)],
    ["opcode 0x0104", bytes(1, 4, 0, 0)],
    ["RRQ without terminators", ascii("\0\x01file")],
    ["RRQ without mode", ascii("\0\x01file\0")],
    ["RRQ with invalid UTF-8", bytes(0, 1, 0xff, 0xfe, 0, 0x6f, 0)],
    ["ERROR with invalid UTF-8", bytes(0, 5, 0, 0, 0xc3, 0x28, 0)],
  ])("rejects %s with TftpDecodeError", (_name, wire) => {
    expect(() => decodePacket(wire)).toThrow(TftpDecodeError);
  });

  test("100,000 random and mutated datagrams throw nothing but TftpDecodeError", () => {
    const random = seededRandom(0x7f7f);
    let decoded = 0;
    for (let i = 0; i < 100_000; i++) {
      const wire = i % 2 === 0 ? randomDatagram(random) : mutate(random);
      try {
        const packet = decodePacket(wire);
        decoded++;
        if (packet.op === "DATA") expect(packet.data.length).toBe(wire.length - 4);
      } catch (error) {
        if (!(error instanceof TftpDecodeError)) throw error;
      }
    }
    // Both branches were exercised.
    expect(decoded).toBeGreaterThan(1000);
    expect(decoded).toBeLessThan(100_000);
  });
});
