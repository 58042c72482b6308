import { describe, expect, test } from "vitest";
import { decodePacket, encodePacket, replySizeLimit } from "../../server/dhcp/codec.ts";
import { DhcpDecodeError, DhcpEncodeError } from "../../server/dhcp/errors.ts";
import { MessageType, Opt, buildIpxeOptions, buildPxeVendorOptions, setMessageType } from "../../server/dhcp/options.ts";
import { BROADCAST_FLAG, createPacket, type DhcpPacket } from "../../server/dhcp/packet.ts";
import {
  CLIENT_FIXTURES,
  ovmfEdk2Discover,
  ovmfEdk2Request,
  pixiecoreBiosDiscover,
  pixiecoreRelayedRequest,
  seabiosIpxeDiscover,
} from "./fixtures/clients.ts";
import { hex, toHex } from "./fixtures/hex.ts";

const HEADER = "01 01 06 00 12345678 0000 0000 00000000 00000000 00000000 00000000 525400770009 00*10";
const COOKIE = "63825363";

/** A request datagram with the given sname, file and options-field hex. */
function datagram(options: string, sname = "00*64", file = "00*128"): Uint8Array {
  return hex(`${HEADER} ${sname} ${file} ${COOKIE} ${options}`);
}

function decodeError(buf: Uint8Array): DhcpDecodeError {
  try {
    decodePacket(buf);
  } catch (e) {
    if (e instanceof DhcpDecodeError) return e;
    throw e;
  }
  throw new Error("decoded without error");
}

function optionList(p: DhcpPacket): [number, string][] {
  return [...p.options].map(([code, value]) => [code, toHex(value)]);
}

function reply(fields: Partial<DhcpPacket> = {}): DhcpPacket {
  const p = createPacket({ xid: 0x6d58768d, chaddr: hex("525400770002 00*10"), flags: BROADCAST_FLAG, ...fields });
  setMessageType(p, MessageType.Offer);
  return p;
}

/** Index of `needle` in `haystack`, or -1. */
function indexOfBytes(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

describe("decode", () => {
  test("reads every header field of the OVMF DISCOVER", () => {
    const p = decodePacket(ovmfEdk2Discover);
    expect(p).toMatchObject({
      op: 1,
      htype: 1,
      hlen: 6,
      hops: 0,
      xid: 0x6d58768d,
      secs: 0,
      flags: 0x8000,
      ciaddr: "0.0.0.0",
      giaddr: "0.0.0.0",
      sname: "",
      file: "",
    });
    expect(toHex(p.chaddr)).toBe("52 54 00 77 00 02 00 00 00 00 00 00 00 00 00 00");
    expect([...p.options.keys()]).toEqual([53, 57, 55, 97, 94, 93, 60]);
  });

  test("keeps option values as views into the datagram", () => {
    const p = decodePacket(seabiosIpxeDiscover);
    const vendor = p.options.get(Opt.VendorClass)!;
    expect(vendor.buffer).toBe(seabiosIpxeDiscover.buffer);
  });

  test("reads a relayed request's hops and giaddr", () => {
    const p = decodePacket(pixiecoreRelayedRequest);
    expect(p.hops).toBe(1);
    expect(p.giaddr).toBe("192.168.40.1");
    expect([...p.options.keys()]).toEqual([53, 12, 50, 55]);
  });

  test("skips PAD anywhere between options", () => {
    const plain = decodePacket(datagram("35 01 01 3c 03 616263 ff"));
    const padded = decodePacket(datagram("00 00 35 01 01 00 3c 03 616263 00 00 ff"));
    expect(optionList(padded)).toEqual(optionList(plain));
  });

  test("ignores bytes after END", () => {
    const p = decodePacket(datagram("35 01 01 ff 3c 99 deadbeef"));
    expect([...p.options.keys()]).toEqual([53]);
  });

  test("accepts options that end exactly at the datagram end without END", () => {
    const p = decodePacket(datagram("35 01 01 3c 02 6869"));
    expect(optionList(p)).toEqual([[53, "01"], [60, "68 69"]]);
  });

  test("keeps unknown and private options verbatim, in order", () => {
    const p = decodePacket(datagram("e0 03 010203 35 01 01 fe 00 9a 02 ffff ff"));
    expect(optionList(p)).toEqual([[224, "01 02 03"], [53, "01"], [254, ""], [154, "ff ff"]]);
  });

  test("reads NUL-terminated sname and file", () => {
    const p = decodePacket(datagram("35 01 01 ff", `"boot.example" 00*52`, `"undionly.kpxe" 00*115`));
    expect(p.sname).toBe("boot.example");
    expect(p.file).toBe("undionly.kpxe");
  });

  test("takes a file field with no NUL whole", () => {
    const p = decodePacket(datagram("ff", "00*64", "61*128"));
    expect(p.file).toBe("a".repeat(128));
  });
});

describe("RFC 3396 long options", () => {
  test("concatenates repeated options at the first one's position", () => {
    const p = decodePacket(datagram("35 01 01 77 02 0361 3c 01 41 77 02 6203 ff"));
    expect(optionList(p)).toEqual([[53, "01"], [119, "03 61 62 03"], [60, "41"]]);
  });

  test("splits a 600-byte option into 255 + 255 + 90 and joins it back", () => {
    const long = Uint8Array.from({ length: 600 }, (_, i) => i & 0xff);
    const p = reply();
    p.options.set(Opt.DomainSearch, long);
    const bytes = encodePacket(p);
    const starts: number[] = [];
    for (let at = 240; bytes[at] !== Opt.End; at += 2 + bytes[at + 1]!) {
      if (bytes[at] === Opt.DomainSearch) starts.push(bytes[at + 1]!);
    }
    expect(starts).toEqual([255, 255, 90]);
    expect(decodePacket(bytes).options.get(Opt.DomainSearch)).toEqual(long);
  });

  test("writes a zero-length option as code and length 0", () => {
    const p = reply();
    p.options.set(80, new Uint8Array(0));
    const bytes = encodePacket(p);
    expect(toHex(bytes.subarray(240, 246))).toBe("35 01 02 50 00 ff");
  });
});

describe("option 52 overload", () => {
  test("reads options from file then sname, after the options field", () => {
    const buf = datagram(
      "35 01 05 34 01 03 0c 02 6f6e ff",
      `0c 02 7468 42 04 "tftp" ff 00*53`, // sname: host-name part 3, TFTP server name
      `0c 01 65 43 05 "a.efi" ff 00*117`, // file: host-name part 2, bootfile name
    );
    const p = decodePacket(buf);
    expect(p.options.has(Opt.Overload)).toBe(false);
    expect(p.sname).toBe("");
    expect(p.file).toBe("");
    expect(new TextDecoder().decode(p.options.get(Opt.HostName))).toBe("oneth");
    expect(new TextDecoder().decode(p.options.get(Opt.BootfileName))).toBe("a.efi");
    expect(new TextDecoder().decode(p.options.get(Opt.TftpServerName))).toBe("tftp");
    expect([...p.options.keys()]).toEqual([53, 12, 67, 66]);
  });

  test("file only (52 = 1) leaves sname as text", () => {
    const p = decodePacket(datagram("34 01 01 ff", `"srv" 00*61`, `43 03 "x.0" ff 00*122`));
    expect(p.sname).toBe("srv");
    expect(p.file).toBe("");
    expect(p.options.has(Opt.BootfileName)).toBe(true);
  });

  test("sname only (52 = 2) leaves file as text", () => {
    const p = decodePacket(datagram("34 01 02 ff", `42 01 "s" 00*61`, `"pxelinux.0" 00*118`));
    expect(p.file).toBe("pxelinux.0");
    expect(p.options.has(Opt.TftpServerName)).toBe(true);
  });

  test("ignores an option 52 inside the overloaded file", () => {
    const p = decodePacket(datagram("34 01 01 ff", "00*64", `34 01 02 0c 01 68 ff 00*121`));
    expect([...p.options.keys()]).toEqual([12]);
  });

  test("an overloaded field may end without END", () => {
    const p = decodePacket(datagram("34 01 02 ff", `0c 3e ${"61".repeat(62)}`));
    expect(p.options.get(Opt.HostName)?.length).toBe(62);
  });
});

describe("encode", () => {
  test("re-encodes every fixture byte for byte", () => {
    for (const fixture of CLIENT_FIXTURES) {
      expect(toHex(encodePacket(decodePacket(fixture.bytes))), fixture.name).toBe(toHex(fixture.bytes));
    }
  });

  test("decode → encode → decode keeps fields and options in order", () => {
    for (const fixture of CLIENT_FIXTURES) {
      const first = decodePacket(fixture.bytes);
      const second = decodePacket(encodePacket(first));
      expect(optionList(second), fixture.name).toEqual(optionList(first));
      const { options: _a, chaddr: chaddrA, ...headerA } = first;
      const { options: _b, chaddr: chaddrB, ...headerB } = second;
      expect(headerB, fixture.name).toEqual(headerA);
      expect(toHex(chaddrB)).toBe(toHex(chaddrA));
    }
  });

  test("pads a short reply to 300 bytes", () => {
    const bytes = encodePacket(reply());
    expect(bytes.length).toBe(300);
    expect(toHex(bytes.subarray(240, 244))).toBe("35 01 02 ff");
    expect(bytes.subarray(244).every((b) => b === 0)).toBe(true);
  });

  test("writes 175.176 = 1 as af 04 b0 01 01 ff", () => {
    const p = reply();
    p.options.set(Opt.Ipxe, buildIpxeOptions({ noPxeDhcp: true }));
    expect(toHex(encodePacket(p).subarray(243, 250))).toBe("af 04 b0 01 01 ff ff");
  });

  test("writes the BIOS PXE discovery control as 2b 04 06 01 08 ff", () => {
    const p = reply();
    p.options.set(Opt.VendorSpecific, buildPxeVendorOptions());
    expect(toHex(encodePacket(p).subarray(243, 249))).toBe("2b 04 06 01 08 ff");
  });

  test("puts option 82 last, just before END, whatever its map position", () => {
    const relay = hex("01 04 65746830 02 06 001122334455");
    const p = reply({ giaddr: "192.168.40.1" });
    p.options = new Map([[Opt.RelayAgentInfo, relay], ...p.options, [Opt.ServerId, hex("0a4d0001")]]);
    const bytes = encodePacket(p);
    const at = indexOfBytes(bytes, hex("52 0e 01 04 65746830 02 06 001122334455 ff"));
    expect(at).toBe(240 + 3 + 6);
    expect([...decodePacket(bytes).options.keys()]).toEqual([53, 54, 82]);
  });

  test("writes header fields at their offsets", () => {
    const p = reply({
      hops: 1,
      secs: 10,
      ciaddr: "10.0.0.1",
      yiaddr: "10.77.0.100",
      siaddr: "10.77.0.1",
      giaddr: "192.168.40.1",
    });
    const bytes = encodePacket(p);
    expect(toHex(bytes.subarray(0, 28))).toBe(
      "02 01 06 01 6d 58 76 8d 00 0a 80 00 0a 00 00 01 0a 4d 00 64 0a 4d 00 01 c0 a8 28 01",
    );
  });

  test("NUL-terminates file and sname", () => {
    const bytes = encodePacket(reply({ sname: "provd", file: "undionly.kpxe" }));
    expect(toHex(bytes.subarray(44, 50))).toBe(toHex(hex(`"provd" 00`)));
    expect(toHex(bytes.subarray(108, 122))).toBe(toHex(hex(`"undionly.kpxe" 00`)));
  });

  test("fits a 127-byte file with its NUL, refuses 128", () => {
    const bytes = encodePacket(reply({ file: "f".repeat(127) }));
    expect(bytes[108 + 126]).toBe(0x66);
    expect(bytes[108 + 127]).toBe(0);
    expect(() => encodePacket(reply({ file: "f".repeat(128) }))).toThrow(DhcpEncodeError);
    expect(() => encodePacket(reply({ sname: "s".repeat(64) }))).toThrow(/sname is 64 bytes/);
  });

  test("a 200-byte boot URL is refused in file but fine as option 67", () => {
    const url = `http://10.77.0.1:8080/boot.ipxe?mac=52-54-00-77-00-02&token=${"x".repeat(140)}`;
    expect(url.length).toBe(200);
    expect(() => encodePacket(reply({ file: url }))).toThrow(/file is 200 bytes; the field holds 127/);
    const p = reply();
    p.options.set(Opt.BootfileName, new TextEncoder().encode(url));
    const decoded = decodePacket(encodePacket(p));
    expect(new TextDecoder().decode(decoded.options.get(Opt.BootfileName))).toBe(url);
    expect(decoded.file).toBe("");
  });

  test("counts UTF-8 bytes, not characters, against the field", () => {
    expect(() => encodePacket(reply({ file: "é".repeat(64) }))).toThrow(DhcpEncodeError);
    expect(decodePacket(encodePacket(reply({ file: "é".repeat(63) }))).file).toBe("é".repeat(63));
  });

  test("refuses a reply larger than maxSize, naming both sizes", () => {
    const p = reply();
    p.options.set(Opt.VendorSpecific, new Uint8Array(1300));
    expect(() => encodePacket(p, { maxSize: 1232 })).toThrow(/needs 1556 bytes but the receiver accepts 1232/);
    expect(encodePacket(p, { maxSize: 1556 }).length).toBe(1556);
  });

  test("never pads beyond maxSize", () => {
    expect(encodePacket(reply(), { maxSize: 260 }).length).toBe(260);
    expect(encodePacket(reply(), { minSize: 0 }).length).toBe(244);
  });

  test("rejects values the wire cannot carry", () => {
    const cases: Partial<DhcpPacket>[] = [
      { yiaddr: "10.77.0.256" },
      { siaddr: "10.77.0" },
      { giaddr: "a.b.c.d" },
      { xid: 2 ** 32 },
      { secs: -1 },
      { hlen: 17 },
      { op: 1.5 },
      { chaddr: new Uint8Array(17) },
      { file: "a\0b" },
    ];
    for (const fields of cases) expect(() => encodePacket(reply(fields)), JSON.stringify(fields)).toThrow(DhcpEncodeError);
    for (const code of [0, 255, 52, 256, -1]) {
      const p = reply();
      p.options.set(code, new Uint8Array(1));
      expect(() => encodePacket(p), `code ${code}`).toThrow(DhcpEncodeError);
    }
  });
});

describe("replySizeLimit", () => {
  test("is option 57 less IP and UDP headers, capped by the MTU", () => {
    expect(replySizeLimit(decodePacket(seabiosIpxeDiscover))).toBe(1472 - 28);
    expect(replySizeLimit(decodePacket(ovmfEdk2Request))).toBe(1500 - 28);
    expect(replySizeLimit(decodePacket(ovmfEdk2Request), 9000)).toBe(9000 - 28);
    expect(replySizeLimit(decodePacket(pixiecoreBiosDiscover))).toBe(1260 - 28);
  });

  test("falls back to 576 when 57 is absent, malformed or below the legal minimum", () => {
    expect(replySizeLimit(decodePacket(pixiecoreRelayedRequest))).toBe(548);
    expect(replySizeLimit(decodePacket(datagram("39 02 0100 ff")))).toBe(548);
    expect(replySizeLimit(decodePacket(datagram("39 01 ff ff")))).toBe(548);
  });
});

describe("malformed input throws DhcpDecodeError", () => {
  const valid = datagram("35 01 01 ff");
  const cases: [string, Uint8Array, RegExp][] = [
    ["empty datagram", new Uint8Array(0), /truncated header/],
    ["header cut before the cookie", valid.subarray(0, 239), /truncated header/],
    ["op 0", Uint8Array.from(valid, (b, i) => (i === 0 ? 0 : b)), /bad op/],
    ["op 3", Uint8Array.from(valid, (b, i) => (i === 0 ? 3 : b)), /bad op/],
    ["hlen 17", Uint8Array.from(valid, (b, i) => (i === 2 ? 17 : b)), /hlen > 16/],
    ["BOOTP vendor area instead of the cookie", Uint8Array.from(valid, (b, i) => (i === 236 ? 0 : b)), /bad magic cookie/],
    ["option code as the last byte", datagram("35 01 01 3c"), /option 60 has no length byte in options/],
    ["option running past the end", datagram("35 01 01 3c 09 616263"), /option 60 runs past the end of options/],
    ["option in file running past the field", datagram("34 01 01 ff", "00*64", "00*125 0c 05 61"), /option 12 runs past the end of file/],
    ["option in sname running past the field", datagram("34 01 02 ff", "00*62 0c 02"), /option 12 runs past the end of sname/],
    ["length byte missing at the end of file", datagram("34 01 01 ff", "00*64", "00*127 0c"), /no length byte in file/],
    ["overload value 0", datagram("34 01 00 ff"), /bad option overload/],
    ["overload value 4", datagram("34 01 04 ff"), /bad option overload/],
    ["overload of length 2", datagram("34 02 0101 ff"), /bad option overload/],
    ["overload repeated", datagram("34 01 01 34 01 01 ff"), /bad option overload/],
  ];
  for (const [name, buf, reason] of cases) {
    test(name, () => {
      expect(decodeError(buf).reason).toMatch(reason);
    });
  }

  test("something that is not a byte array", () => {
    expect(decodeError("not bytes" as unknown as Uint8Array).reason).toBe("not a byte array");
  });
});

describe("fuzz", () => {
  /** mulberry32: a seeded PRNG so a failure replays exactly. */
  function prng(seed: number): () => number {
    return () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  /** Offsets of each option's length byte in a well-formed datagram. */
  function lengthOffsets(buf: Uint8Array): number[] {
    const out: number[] = [];
    for (let at = 240; at < buf.length && buf[at] !== Opt.End; ) {
      if (buf[at] === Opt.Pad) {
        at++;
        continue;
      }
      out.push(at + 1);
      at += 2 + buf[at + 1]!;
    }
    return out;
  }

  /** The encoder's order: 82 moves to the end (RFC 3046), everything else stays. */
  function relayInfoLast(options: [number, string][]): [number, string][] {
    return [...options.filter(([code]) => code !== Opt.RelayAgentInfo), ...options.filter(([code]) => code === Opt.RelayAgentInfo)];
  }

  const ADDRESS = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

  function checkDecoded(p: DhcpPacket, buf: Uint8Array): string | undefined {
    const ints: [number, number][] = [[p.op, 2], [p.htype, 255], [p.hlen, 16], [p.hops, 255], [p.xid, 2 ** 32 - 1], [p.secs, 65535], [p.flags, 65535]];
    if (ints.some(([v, max]) => !Number.isInteger(v) || v < 0 || v > max)) return "header field out of range";
    if (![p.ciaddr, p.yiaddr, p.siaddr, p.giaddr].every((a) => ADDRESS.test(a))) return "bad address text";
    if (p.chaddr.length !== 16) return "chaddr not 16 bytes";
    for (const [code, value] of p.options) {
      if (code === Opt.Pad || code === Opt.End || code === Opt.Overload) return `framing code ${code} in options`;
      if (value.length > buf.length) return "option longer than the datagram";
    }
    return undefined;
  }

  test("100,000 random and mutated datagrams give a packet or DhcpDecodeError", () => {
    const random = prng(0x5eed);
    const int = (n: number) => Math.floor(random() * n);
    const seeds = CLIENT_FIXTURES.map((f) => f.bytes);
    const outcomes = { decoded: 0, rejected: 0, reencoded: 0 };
    const failures: string[] = [];

    for (let round = 0; round < 100_000; round++) {
      const base = seeds[int(seeds.length)]!;
      let buf: Uint8Array;
      switch (round % 8) {
        case 0: // pure noise
          buf = Uint8Array.from({ length: int(700) }, () => int(256));
          break;
        case 1: // noise behind a valid header, so the option parser sees it
          buf = Uint8Array.from({ length: 240 + int(400) }, () => int(256));
          buf.set(base.subarray(0, 240));
          break;
        case 2: // bit flips
          buf = base.slice();
          for (let i = 1 + int(8); i > 0; i--) {
            const at = int(buf.length);
            buf[at] = buf[at]! ^ (1 << int(8));
          }
          break;
        case 3: // truncation
          buf = base.slice(0, int(base.length + 1));
          break;
        case 4: {
          // length-byte corruption
          buf = base.slice();
          const offsets = lengthOffsets(buf);
          for (let i = 1 + int(3); i > 0; i--) buf[offsets[int(offsets.length)]!] = int(256);
          break;
        }
        case 5: {
          // overload junk: 52 with random flags over random sname/file bytes
          buf = base.slice();
          for (let i = 44; i < 236; i++) buf[i] = random() < 0.7 ? 0 : int(256);
          const patched = new Uint8Array(buf.length + 3);
          patched.set(buf.subarray(0, 240));
          patched.set([52, 1, int(5)], 240);
          patched.set(buf.subarray(240), 243);
          buf = patched;
          break;
        }
        case 6: {
          // PAD and duplicate-option injection
          const extra = Uint8Array.from({ length: int(20) }, () => (random() < 0.5 ? 0 : int(256)));
          const at = 240 + int(base.length - 240);
          buf = new Uint8Array(base.length + extra.length);
          buf.set(base.subarray(0, at));
          buf.set(extra, at);
          buf.set(base.subarray(at), at + extra.length);
          break;
        }
        default: // everything at once
          buf = base.slice(0, 200 + int(base.length - 199));
          for (let i = int(6); i > 0; i--) buf[int(buf.length)] = int(256);
      }

      let p: DhcpPacket;
      try {
        p = decodePacket(buf);
      } catch (e) {
        if (e instanceof DhcpDecodeError) outcomes.rejected++;
        else failures.push(`round ${round}: ${String(e)}`);
        continue;
      }
      outcomes.decoded++;
      const problem = checkDecoded(p, buf);
      if (problem) failures.push(`round ${round}: ${problem}`);

      // Whatever decodes must re-encode (or be refused cleanly) and decode back to the same options.
      try {
        const again = decodePacket(encodePacket(p));
        outcomes.reencoded++;
        if (JSON.stringify(optionList(again)) !== JSON.stringify(relayInfoLast(optionList(p)))) {
          failures.push(`round ${round}: options changed`);
        }
      } catch (e) {
        if (!(e instanceof DhcpEncodeError)) failures.push(`round ${round}: re-encode threw ${String(e)}`);
      }
      if (failures.length > 5) break;
    }

    expect(failures).toEqual([]);
    expect(outcomes.decoded).toBeGreaterThan(10_000);
    expect(outcomes.rejected).toBeGreaterThan(10_000);
    expect(outcomes.reencoded).toBeGreaterThan(outcomes.decoded * 0.9);
  });
});
