// Byte-level tests of the IPMI codecs: framing, checksums, handshake payloads, the encrypted and
// authenticated session packet, boot flags, and rejection of anything malformed (BmcError only).
import { createCipheriv, createDecipheriv, createHmac } from "node:crypto";
import { describe, expect, test } from "vitest";
import { BmcError } from "../../../server/power/driver.ts";
import { CIPHER_SUITE_17, CIPHER_SUITE_3 } from "../../../server/power/ipmi/algorithms.ts";
import { bootOverrideOf, decodeBootFlags, encodeBootFlags } from "../../../server/power/ipmi/boot-options.ts";
import { DEFAULT_RETRY, retryWaitMs } from "../../../server/power/ipmi/channel.ts";
import { completionCodeText, rmcpStatusText } from "../../../server/power/ipmi/codes.ts";
import { credentialsOf } from "../../../server/power/ipmi/credentials.ts";
import {
  decodeOpenSessionResponse,
  decodeRakp2,
  decodeRakp4,
  encodeOpenSessionRequest,
  encodeRakp1,
} from "../../../server/power/ipmi/handshake-codec.ts";
import { checksum, decodeResponse, encodeRequest } from "../../../server/power/ipmi/message.ts";
import type { SessionKeys } from "../../../server/power/ipmi/rakp-keys.ts";
import { decodeRmcpPlus, decodeSessionless, encodeRmcpPlus, encodeSessionless15 } from "../../../server/power/ipmi/rmcp.ts";
import { decodeSessionPacket, encodeSessionPacket } from "../../../server/power/ipmi/session-packet.ts";

const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text.replace(/\s+/g, ""), "hex"));
const show = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex").replace(/(..)(?!$)/g, "$1 ");

/** Runs `decode` and insists that it either returns or throws a BmcError. */
function decodesOrRejects(decode: () => unknown): "ok" | BmcError {
  try {
    decode();
    return "ok";
  } catch (error) {
    if (error instanceof BmcError) return error;
    throw error;
  }
}

function rejects(decode: () => unknown, message: string | RegExp): void {
  const outcome = decodesOrRejects(decode);
  expect(outcome).toBeInstanceOf(BmcError);
  if (outcome instanceof BmcError) {
    expect(outcome.kind).toBe("protocol");
    expect(outcome.message).toMatch(message);
  }
}

/** A response message as a BMC builds it. */
function responseMessage(netFn: number, cmd: number, rqSeq: number, code: number, data: number[]): Uint8Array {
  const out = Uint8Array.from([0x81, netFn << 2, 0, 0x20, rqSeq << 2, cmd, code, ...data, 0]);
  out[2] = checksum(out, 0, 2);
  out[out.length - 1] = checksum(out, 3, out.length - 1);
  return out;
}

describe("IPMI messages and framing", () => {
  test("Get Channel Authentication Capabilities goes out in IPMI 1.5 framing, byte for byte", () => {
    const message = encodeRequest({ netFn: 0x06, cmd: 0x38, data: Uint8Array.of(0x8e, 0x04) }, 1);
    expect(show(message)).toBe("20 18 c8 81 04 38 8e 04 b1");
    expect(show(encodeSessionless15(message))).toBe("06 00 ff 07 00 00 00 00 00 00 00 00 00 09 20 18 c8 81 04 38 8e 04 b1");
  });

  test("checksums are two's complements: header and body each sum to zero", () => {
    const message = encodeRequest({ netFn: 0x00, cmd: 0x08, data: hex("05 a0 04 00 00 00") }, 17);
    const sum = (from: number, to: number) => message.subarray(from, to).reduce((a, b) => (a + b) & 0xff, 0);
    expect(sum(0, 3)).toBe(0);
    expect(sum(3, message.length)).toBe(0);
    expect(message[4]).toBe(17 << 2);
  });

  test("a response decodes; broken ones are rejected", () => {
    const good = responseMessage(0x07, 0x38, 1, 0x00, [0x01, 0x80, 0x04, 0x02, 0, 0, 0, 0]);
    expect(decodeResponse(good)).toEqual({
      netFn: 0x07,
      cmd: 0x38,
      rqSeq: 1,
      completionCode: 0,
      data: Uint8Array.of(0x01, 0x80, 0x04, 0x02, 0, 0, 0, 0),
    });
    const header = good.slice();
    header[2] = (header[2] ?? 0) ^ 1;
    rejects(() => decodeResponse(header), "header checksum");
    const body = good.slice();
    body[8] = (body[8] ?? 0) ^ 1;
    rejects(() => decodeResponse(body), "data checksum");
    rejects(() => decodeResponse(good.subarray(0, 7)), "too short");
    rejects(() => decodeResponse(encodeRequest({ netFn: 0x06, cmd: 0x38, data: new Uint8Array(0) }, 1)), /too short|request/);
    const request = responseMessage(0x06, 0x38, 1, 0, [1]);
    rejects(() => decodeResponse(request), "request, not a response");
  });

  test("sessionless replies: IPMI 1.5, or plain RMCP+ with session 0; nothing else", () => {
    const message = responseMessage(0x07, 0x38, 1, 0, [1, 0x80, 4, 2, 0, 0, 0, 0]);
    expect(decodeSessionless(encodeSessionless15(message))).toEqual(message);
    expect(decodeSessionless(encodeRmcpPlus(0x00, message))).toEqual(message);
    const v15 = encodeSessionless15(message);
    rejects(() => decodeSessionless(v15.subarray(0, v15.length - 1)), "truncated");
    rejects(() => decodeSessionless(v15.subarray(0, 10)), "truncated");
    rejects(() => decodeSessionless(Uint8Array.of(6, 0, 0xff)), "too short");
    const asf = v15.slice();
    asf[3] = 0x06;
    rejects(() => decodeSessionless(asf), "not an RMCP/IPMI");
    const md5 = v15.slice();
    md5[4] = 0x02;
    rejects(() => decodeSessionless(md5), "authtype 2");
    const withSession = v15.slice();
    withSession[9] = 1;
    rejects(() => decodeSessionless(withSession), "session id");
    const encrypted = encodeRmcpPlus(0xc0, message);
    rejects(() => decodeSessionless(encrypted), "not a plain IPMI payload");
  });

  test("RMCP+ header: length, OEM payloads and truncation", () => {
    const packet = encodeRmcpPlus(0x11, hex("01 02 03"));
    expect(show(packet)).toBe("06 00 ff 07 06 11 00 00 00 00 00 00 00 00 03 00 01 02 03");
    expect(decodeRmcpPlus(packet)).toMatchObject({ payloadType: 0x11, encrypted: false, authenticated: false, sessionId: 0 });
    rejects(() => decodeRmcpPlus(packet.subarray(0, 18)), "payload truncated");
    rejects(() => decodeRmcpPlus(packet.subarray(0, 12)), "header truncated");
    rejects(() => decodeRmcpPlus(encodeRmcpPlus(0x02, hex("00"))), "OEM");
  });
});

describe("handshake payloads", () => {
  test("Open Session requests for suites 3 and 17, as the note's table has them", () => {
    const suite3 = encodeOpenSessionRequest({ tag: 7, privilege: 4, consoleSessionId: 0x11223344, algorithms: CIPHER_SUITE_3 });
    expect(show(suite3)).toBe(
      "07 04 00 00 44 33 22 11 00 00 00 08 01 00 00 00 01 00 00 08 01 00 00 00 02 00 00 08 01 00 00 00",
    );
    const suite17 = encodeOpenSessionRequest({ tag: 7, privilege: 4, consoleSessionId: 0x11223344, algorithms: CIPHER_SUITE_17 });
    expect(show(suite17.subarray(8))).toBe("00 00 00 08 03 00 00 00 01 00 00 08 04 00 00 00 02 00 00 08 01 00 00 00");
  });

  test("Open Session responses: accepted, refused in two bytes (ipmi_sim), malformed", () => {
    const accepted = hex(
      "07 00 04 00 44 33 22 11 78 56 34 12 00 00 00 08 01 00 00 00 01 00 00 08 01 00 00 00 02 00 00 08 01 00 00 00",
    );
    expect(decodeOpenSessionResponse(accepted)).toEqual({
      tag: 7,
      status: 0,
      consoleSessionId: 0x11223344,
      bmcSessionId: 0x12345678,
      auth: 1,
      integrity: 1,
      confidentiality: 1,
    });
    expect(decodeOpenSessionResponse(hex("01 04"))).toMatchObject({ tag: 1, status: 4, consoleSessionId: undefined });
    rejects(() => decodeOpenSessionResponse(hex("01")), "too short");
    rejects(() => decodeOpenSessionResponse(accepted.subarray(0, 20)), "truncated");
    const shuffled = accepted.slice();
    shuffled[12] = 0x01;
    rejects(() => decodeOpenSessionResponse(shuffled), "out of order");
  });

  test("RAKP1 layout; RAKP2 and RAKP4 are cut short only with a non-zero status", () => {
    const rakp1 = encodeRakp1({
      tag: 2,
      bmcSessionId: 0x12345678,
      consoleRandom: new Uint8Array(16).fill(0xaa),
      role: 0x14,
      username: new TextEncoder().encode("admin"),
    });
    expect(show(rakp1)).toBe(`02 00 00 00 78 56 34 12 ${"aa ".repeat(16)}14 00 00 05 61 64 6d 69 6e`);
    expect(decodeRakp2(hex("02 0d 00 00 44 33 22 11"), 20)).toMatchObject({ status: 0x0d, consoleSessionId: 0x11223344 });
    rejects(() => decodeRakp2(hex("02 00 00 00 44 33 22 11"), 20), "truncated");
    rejects(() => decodeRakp2(new Uint8Array(40 + 19), 20), "truncated");
    expect(decodeRakp2(new Uint8Array(40 + 32), 32).authCode).toHaveLength(32);
    expect(decodeRakp4(new Uint8Array(8 + 12), 12).integrityCheck).toHaveLength(12);
    rejects(() => decodeRakp4(new Uint8Array(8 + 11), 12), "truncated");
    rejects(() => decodeRakp4(new Uint8Array(7), 12), "too short");
  });
});

describe("session packets", () => {
  const keys: SessionKeys = {
    integrity: 0x01,
    confidentiality: 0x01,
    sik: new Uint8Array(20).fill(0x11),
    k1: new Uint8Array(20).fill(0x22),
    aesKey: new Uint8Array(16).fill(0x33),
  };
  const sha256Keys: SessionKeys = { ...keys, integrity: 0x04, k1: new Uint8Array(32).fill(0x44) };
  const iv = new Uint8Array(16).fill(0x55);
  const message = encodeRequest({ netFn: 0x00, cmd: 0x01, data: new Uint8Array(0) }, 3); // 7 bytes

  test("layout: header, IV, AES-CBC with the 01 02 … N | N pad, integrity pad to 4, 07, HMAC-SHA1-96", () => {
    const packet = encodeSessionPacket(keys, 0xdeadbeef, 5, message, iv);
    expect(show(packet.subarray(0, 16))).toBe("06 00 ff 07 06 c0 ef be ad de 05 00 00 00 20 00");
    expect(show(packet.subarray(16, 32))).toBe(show(iv));
    const decipher = createDecipheriv("aes-128-cbc", keys.aesKey, iv).setAutoPadding(false);
    const plain = Buffer.concat([decipher.update(packet.subarray(32, 48)), decipher.final()]);
    expect(show(plain)).toBe(`${show(message)} 01 02 03 04 05 06 07 08 08`);
    // authtype (offset 4) … next header: 12 + 32 + 2 pad + 2 = 48, a multiple of 4.
    expect(show(packet.subarray(48, 52))).toBe("ff ff 02 07");
    const mac = createHmac("sha1", keys.k1).update(packet.subarray(4, 52)).digest().subarray(0, 12);
    expect(show(packet.subarray(52))).toBe(show(mac));
    expect(packet).toHaveLength(64);
  });

  test("a message that fills its block exactly still gets a pad length byte: a whole block more", () => {
    const fifteen = new Uint8Array(15).fill(7);
    const packet = encodeSessionPacket(keys, 1, 1, fifteen, iv);
    expect(packet[14]).toBe(32); // IV + one block: 15 + pad length byte 0
    const twenty = encodeSessionPacket(keys, 1, 1, new Uint8Array(16), iv);
    expect(twenty[14]).toBe(48);
  });

  test("round trip with SHA1-96 and SHA256-128; the receiver checks the session id", () => {
    for (const k of [keys, sha256Keys]) {
      const packet = encodeSessionPacket(k, 0x01020304, 9, message);
      expect(decodeSessionPacket(k, 0x01020304, packet)).toEqual({ sequence: 9, message });
      rejects(() => decodeSessionPacket(k, 0x01020305, packet), "not ours");
    }
    expect(encodeSessionPacket(sha256Keys, 1, 1, message, iv)).toHaveLength(16 + 32 + 4 + 16);
  });

  test("bad HMAC, foreign keys, unauthenticated, every truncation and a bad pad are rejected", () => {
    const packet = encodeSessionPacket(keys, 7, 1, message, iv);
    const badMac = packet.slice();
    badMac[packet.length - 1] = (badMac[packet.length - 1] ?? 0) ^ 1;
    rejects(() => decodeSessionPacket(keys, 7, badMac), "bad HMAC");
    rejects(() => decodeSessionPacket({ ...keys, k1: new Uint8Array(20) }, 7, packet), "bad HMAC");
    const plainType = packet.slice();
    plainType[5] = 0x00;
    rejects(() => decodeSessionPacket(keys, 7, plainType), "unauthenticated or unencrypted");
    for (let length = 0; length < packet.length; length++) {
      expect(decodesOrRejects(() => decodeSessionPacket(keys, 7, packet.subarray(0, length))), `prefix of ${length}`).toBeInstanceOf(BmcError);
    }
    const longPad = packet.slice();
    longPad[50] = 0x05;
    rejects(() => decodeSessionPacket(keys, 7, longPad), "trailer is malformed");
    const nextHeader = packet.slice();
    nextHeader[51] = 0x06;
    rejects(() => decodeSessionPacket(keys, 7, nextHeader), "next header");

    // Authentic but with a broken confidentiality pad: forged with the right keys.
    const cipher = createCipheriv("aes-128-cbc", keys.aesKey, iv).setAutoPadding(false);
    const wrongPad = Buffer.concat([cipher.update(Buffer.from([...message, 1, 2, 3, 4, 5, 6, 9, 8, 8])), cipher.final()]);
    const forged = packet.slice();
    forged.set(wrongPad, 32);
    forged.set(createHmac("sha1", keys.k1).update(forged.subarray(4, 52)).digest().subarray(0, 12), 52);
    rejects(() => decodeSessionPacket(keys, 7, forged), "pad bytes are wrong");
  });

  test("random corruption never throws anything but BmcError", () => {
    const packet = encodeSessionPacket(keys, 7, 1, message, iv);
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    let accepted = 0;
    for (let round = 0; round < 3000; round++) {
      const copy = packet.slice(0, 1 + random(packet.length + 8));
      for (let i = random(4); i >= 0; i--) copy[random(copy.length)] = random(256);
      if (decodesOrRejects(() => decodeSessionPacket(keys, 7, copy)) === "ok") accepted++;
      decodesOrRejects(() => decodeSessionless(copy));
      decodesOrRejects(() => decodeOpenSessionResponse(copy));
      decodesOrRejects(() => decodeRakp2(copy, 20));
      decodesOrRejects(() => decodeResponse(copy));
    }
    // Only mutations outside the covered bytes could pass, and there are none: all are rejected
    // except those that happened to rewrite a byte with its own value.
    expect(accepted).toBeLessThan(30);
  });
});

describe("boot flags", () => {
  test("encoding: exactly 05 F D 00 00 00", () => {
    const cases = [
      [{ device: "net", persistent: false, uefi: true }, "05 a0 04 00 00 00"],
      [{ device: "hd", persistent: true, uefi: true }, "05 e0 08 00 00 00"],
      [{ device: "cd", persistent: false, uefi: false }, "05 80 14 00 00 00"],
      [{ device: "setup", persistent: false, uefi: false }, "05 80 18 00 00 00"],
      [{ device: "floppy", persistent: true, uefi: false }, "05 c0 3c 00 00 00"],
      [{ device: "none", persistent: true, uefi: true }, "05 00 00 00 00 00"],
    ] as const;
    for (const [override, bytes] of cases) expect(show(encodeBootFlags(override)), override.device).toBe(bytes);
  });

  test("decoding: valid bit, persistence, EFI, selector; an invalid override is none", () => {
    expect(bootOverrideOf(decodeBootFlags(hex("01 05 e0 08 00 00 00")))).toEqual({ device: "hd", persistent: true, uefi: true });
    expect(bootOverrideOf(decodeBootFlags(hex("01 05 a0 04 00 00 00")))).toEqual({ device: "net", persistent: false, uefi: true });
    // ipmi_sim's answer after "bootdev pxe": the device without the valid bit.
    const sim = decodeBootFlags(hex("01 05 00 04 00 00 00"));
    expect(sim).toEqual({ valid: false, persistent: false, uefi: false, selector: 1 });
    expect(bootOverrideOf(sim)).toEqual({ device: "none", persistent: false, uefi: false });
    expect(bootOverrideOf(decodeBootFlags(hex("01 85 80 00 00 00 00")))).toEqual({ device: "none", persistent: false, uefi: false });
    const safeMode = decodesOrRejects(() => bootOverrideOf(decodeBootFlags(hex("01 05 80 0c 00 00 00"))));
    expect(safeMode).toMatchObject({ kind: "unsupported", message: expect.stringContaining("safe mode") });
    rejects(() => decodeBootFlags(hex("01 03 08")), "too short");
    rejects(() => decodeBootFlags(hex("01 03 08 00 00")), "parameter 3");
  });
});

describe("names, schedules, credentials", () => {
  test("completion codes and RMCP+ statuses read as words", () => {
    expect(completionCodeText(0xc1)).toBe("0xC1 invalid command");
    expect(completionCodeText(0xc7)).toBe("0xC7 request data length invalid");
    expect(completionCodeText(0xcc)).toBe("0xCC invalid data field in request");
    expect(completionCodeText(0xd4)).toBe("0xD4 insufficient privilege level");
    expect(completionCodeText(0x80, { 0x80: "parameter not supported" })).toBe("0x80 parameter not supported");
    expect(completionCodeText(0x81)).toBe("0x81 (command-specific error)");
    expect(completionCodeText(0x42)).toBe("0x42 (unknown completion code)");
    expect(rmcpStatusText(0x0d)).toBe("0x0D unauthorized name");
    expect(rmcpStatusText(0x99)).toBe("0x99 unknown RMCP+ status");
  });

  test("retransmission waits follow xCAT: 0.5 s + jitter, one second more per try", () => {
    expect([0, 1, 2].map((i) => retryWaitMs(DEFAULT_RETRY, i, () => 0))).toEqual([500, 1500, 2500]);
    expect(retryWaitMs(DEFAULT_RETRY, 0, () => 0.999)).toBe(999);
  });

  test("names over 16 bytes and passwords over 20 cannot log in", () => {
    const target = { host: "h", username: "admin", password: "password" };
    expect(credentialsOf(target).username).toHaveLength(5);
    expect(() => credentialsOf({ ...target, username: "a".repeat(17) })).toThrow(/at most 16 bytes/);
    expect(() => credentialsOf({ ...target, password: "p".repeat(21) })).toThrow(/at most 20 bytes/);
  });
});
