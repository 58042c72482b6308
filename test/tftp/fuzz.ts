// Deterministic generators of hostile datagrams, shared by the codec and server fuzz tests.
import { encodeAck, encodeData, encodeError, encodeOack, encodeRequest } from "../../server/tftp/packet.ts";

export type Random = () => number;

/** mulberry32: small, fast and seedable so failures reproduce. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

export function randomDatagram(random: Random): Uint8Array {
  const length = random() < 0.2 ? Math.floor(random() * 5) : Math.floor(random() * 600);
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(random() * 256);
  // Plausible opcodes most of the time, so the parsers behind them get exercised.
  if (length >= 2 && random() < 0.7) {
    out[0] = 0;
    out[1] = Math.floor(random() * 8);
  }
  return out;
}

const seeds: readonly Uint8Array[] = [
  encodeRequest("RRQ", "file.bin", "octet", [
    ["blksize", "1468"],
    ["tsize", "0"],
    ["windowsize", "4"],
    ["timeout", "3"],
  ]),
  encodeRequest("RRQ", "missing/../../etc/passwd", "netascii"),
  encodeRequest("RRQ", "file.bin", "octet", [["blksize", "99999999999999"], ["windowsize", "-1"]]),
  encodeRequest("WRQ", "upload.bin", "octet", [["tsize", "100"]]),
  encodeData(1, new Uint8Array(32)),
  encodeAck(0),
  encodeError(8, "User aborted the transfer"),
  encodeOack([["blksize", "512"]]),
];

/** A valid packet with bytes flipped, cut, extended or NULs moved. */
export function mutate(random: Random): Uint8Array {
  const seed = pick(random, seeds);
  let out = new Uint8Array(seed);
  const edits = 1 + Math.floor(random() * 4);
  for (let e = 0; e < edits; e++) {
    const kind = random();
    if (kind < 0.35 && out.length > 0) {
      out[Math.floor(random() * out.length)] = Math.floor(random() * 256);
    } else if (kind < 0.55) {
      out = out.slice(0, Math.floor(random() * (out.length + 1)));
    } else if (kind < 0.75) {
      const extra = new Uint8Array(Math.floor(random() * 64));
      for (let i = 0; i < extra.length; i++) extra[i] = random() < 0.3 ? 0 : Math.floor(random() * 256);
      const grown = new Uint8Array(out.length + extra.length);
      grown.set(out);
      grown.set(extra, out.length);
      out = grown;
    } else if (out.length > 0) {
      out[Math.floor(random() * out.length)] = random() < 0.5 ? 0 : 0xff;
    }
  }
  return out;
}
