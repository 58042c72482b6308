// A BMC in TypeScript whose misbehaviour a test can script: cipher suite 17 (no Debian emulator has it),
// corrupted, stale or missing replies, refusals. Built from the client's own codec (the real emulators
// and ipmitool check that codec independently), it answers one console at a time per source port.
import { randomBytes } from "node:crypto";
import { AuthAlgorithm, CIPHER_SUITE_17, CIPHER_SUITE_3, type Algorithms, authCodeLength } from "../../../server/power/ipmi/algorithms.ts";
import { concatBytes, readU32le, u32le } from "../../../server/power/ipmi/bytes.ts";
import { decodeRmcpPlus, encodeRmcpPlus, encodeSessionless15, PayloadType } from "../../../server/power/ipmi/rmcp.ts";
import { checksum } from "../../../server/power/ipmi/message.ts";
import {
  type RakpContext,
  type SessionKeys,
  deriveSessionKeys,
  expectedRakp2AuthCode,
  expectedRakp4Icv,
  rakp3AuthCode,
} from "../../../server/power/ipmi/rakp-keys.ts";
import { decodeSessionPacket, encodeSessionPacket } from "../../../server/power/ipmi/session-packet.ts";

export interface ScriptedRequest {
  readonly netFn: number;
  readonly cmd: number;
  readonly rqSeq: number;
  readonly sequence: number;
  readonly data: Uint8Array;
  /** The session had been raised to administrator (a Set Session Privilege Level answered 0) when this came. */
  readonly administrator: boolean;
}

/** What goes out instead of `reply` (several datagrams, or none); `kind` is "gcac", "open", "rakp2", "rakp4" or "session". */
export type Mangle = (reply: Uint8Array, kind: string) => Uint8Array | Uint8Array[] | undefined;

export interface Script {
  users: Record<string, string>;
  /** Which suite to answer an Open Session with: the one asked for, or always this one. */
  suite: "asked" | 3 | 17;
  /** Suites refused with status 0x11 (no cipher suite match). */
  refuseSuites: number[];
  openStatus: number;
  ipmi20: boolean;
  badRakp4: boolean;
  /** Drop the n-th datagram of a kind (counted from 1) without answering. */
  drop: (kind: string, count: number) => boolean;
  mangle: Mangle | undefined;
  power: number;
  completionCode: (request: ScriptedRequest) => number;
}

export interface ScriptedBmc {
  readonly port: number;
  readonly script: Script;
  readonly requests: ScriptedRequest[];
  /** How many datagrams of each kind arrived ("gcac", "open", "rakp1", "rakp3", "session"). */
  readonly seen: Map<string, number>;
  readonly bootFlags: Uint8Array[];
  reset(changes?: Partial<Script>): void;
  close(): void;
}

const GUID = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);

function defaults(): Script {
  return {
    users: { admin: "password" },
    suite: "asked",
    refuseSuites: [],
    openStatus: 0,
    ipmi20: true,
    badRakp4: false,
    drop: () => false,
    mangle: undefined,
    power: 1,
    completionCode: () => 0,
  };
}

interface Pending {
  consoleSessionId: number;
  bmcSessionId: number;
  algorithms: Algorithms;
  context?: RakpContext;
  keys?: SessionKeys;
  administrator?: boolean;
  sequence: number;
}

function response(request: { netFn: number; cmd: number; rqSeq: number }, code: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + data.length);
  out[0] = 0x81;
  out[1] = (request.netFn + 1) << 2;
  out[2] = checksum(out, 0, 2);
  out[3] = 0x20;
  out[4] = request.rqSeq << 2;
  out[5] = request.cmd;
  out[6] = code;
  out.set(data, 7);
  out[out.length - 1] = checksum(out, 3, out.length - 1);
  return out;
}

function parseRequest(message: Uint8Array): { netFn: number; cmd: number; rqSeq: number; data: Uint8Array } {
  return { netFn: (message[1] ?? 0) >> 2, rqSeq: (message[4] ?? 0) >> 2, cmd: message[5] ?? 0, data: message.slice(6, -1) };
}

export async function startScriptedBmc(): Promise<ScriptedBmc> {
  let script = defaults();
  const requests: ScriptedRequest[] = [];
  const seen = new Map<string, number>();
  const bootFlags: Uint8Array[] = [];
  const sessions = new Map<string, Pending>();

  const count = (kind: string): number => {
    const n = (seen.get(kind) ?? 0) + 1;
    seen.set(kind, n);
    return n;
  };

  const socket = await Bun.udpSocket({
    hostname: "127.0.0.1",
    socket: {
      data(sock, datagram, port, address) {
        const send = (bytes: Uint8Array, kind: string): void => {
          const out = script.mangle === undefined ? bytes : script.mangle(bytes, kind);
          for (const datagram of out === undefined ? [] : Array.isArray(out) ? out : [out]) sock.send(datagram, port, address);
        };
        try {
          handle(new Uint8Array(datagram), `${address}:${port}`, send);
        } catch (error) {
          // A test BMC ignores what it cannot parse, like a real one.
          if (process.env.SCRIPTED_BMC_DEBUG) console.error("scripted BMC:", error);
        }
      },
      error() {},
    },
  });

  function handle(datagram: Uint8Array, peer: string, send: (bytes: Uint8Array, kind: string) => void): void {
    if (datagram[4] === 0x00) {
      if (script.drop("gcac", count("gcac"))) return;
      const request = parseRequest(datagram.subarray(14));
      const data = script.ipmi20 ? Uint8Array.of(0x01, 0x80, 0x04, 0x02, 0, 0, 0, 0) : Uint8Array.of(0x01, 0x04, 0x04, 0x00, 0, 0, 0, 0);
      send(encodeSessionless15(response(request, 0, data)), "gcac");
      return;
    }
    const packet = decodeRmcpPlus(datagram);
    const payload = packet.payload;
    switch (packet.payloadType) {
      case PayloadType.openSessionRequest: {
        if (script.drop("open", count("open"))) return;
        const asked = payload[12] === AuthAlgorithm.hmacSha256 ? 17 : 3;
        const suite = script.suite === "asked" ? asked : script.suite;
        const tag = payload[0] ?? 0;
        const consoleSessionId = readU32le(payload, 4);
        const status = script.refuseSuites.includes(asked) ? 0x11 : script.openStatus;
        if (status !== 0) {
          send(encodeRmcpPlus(PayloadType.openSessionResponse, Uint8Array.of(tag, status)), "open");
          return;
        }
        const algorithms = suite === 17 ? CIPHER_SUITE_17 : CIPHER_SUITE_3;
        const bmcSessionId = (readU32le(randomBytes(4), 0) | 1) >>> 0;
        sessions.set(peer, { consoleSessionId, bmcSessionId, algorithms, sequence: 0 });
        const body = concatBytes(
          Uint8Array.of(tag, 0, 4, 0),
          u32le(consoleSessionId),
          u32le(bmcSessionId),
          Uint8Array.of(0, 0, 0, 8, algorithms.auth, 0, 0, 0),
          Uint8Array.of(1, 0, 0, 8, algorithms.integrity, 0, 0, 0),
          Uint8Array.of(2, 0, 0, 8, algorithms.confidentiality, 0, 0, 0),
        );
        send(encodeRmcpPlus(PayloadType.openSessionResponse, body), "open");
        return;
      }
      case PayloadType.rakp1: {
        if (script.drop("rakp1", count("rakp1"))) return;
        const session = sessions.get(peer);
        if (session === undefined) return;
        const username = payload.slice(28, 28 + (payload[27] ?? 0));
        const password = script.users[new TextDecoder().decode(username)];
        const head = concatBytes(Uint8Array.of(payload[0] ?? 0), Uint8Array.of(password === undefined ? 0x0d : 0, 0, 0), u32le(session.consoleSessionId));
        if (password === undefined) {
          send(encodeRmcpPlus(PayloadType.rakp2, head), "rakp2");
          return;
        }
        const context: RakpContext = {
          auth: session.algorithms.auth,
          password: new TextEncoder().encode(password),
          consoleSessionId: session.consoleSessionId,
          bmcSessionId: session.bmcSessionId,
          consoleRandom: payload.slice(8, 24),
          bmcRandom: new Uint8Array(randomBytes(16)),
          bmcGuid: GUID,
          role: payload[24] ?? 0,
          username,
        };
        session.context = context;
        const authCode = expectedRakp2AuthCode(context);
        if (authCode.length !== authCodeLength(context.auth)) throw new Error("bad auth code length");
        send(encodeRmcpPlus(PayloadType.rakp2, concatBytes(head, context.bmcRandom, GUID, authCode)), "rakp2");
        return;
      }
      case PayloadType.rakp3: {
        if (script.drop("rakp3", count("rakp3"))) return;
        const session = sessions.get(peer);
        const context = session?.context;
        if (session === undefined || context === undefined || payload[1] !== 0) return;
        const expected = rakp3AuthCode(context);
        const good = Buffer.from(payload.subarray(8)).equals(Buffer.from(expected));
        const keys = deriveSessionKeys(context, session.algorithms.integrity, session.algorithms.confidentiality);
        session.keys = keys;
        const icv = expectedRakp4Icv(context, keys.sik);
        if (script.badRakp4) icv[0] = (icv[0] ?? 0) ^ 0xff;
        const head = concatBytes(Uint8Array.of(payload[0] ?? 0, good ? 0 : 0x0f, 0, 0), u32le(session.consoleSessionId));
        send(encodeRmcpPlus(PayloadType.rakp4, good ? concatBytes(head, icv) : head), "rakp4");
        return;
      }
      case PayloadType.ipmi: {
        const session = sessions.get(peer);
        if (session?.keys === undefined) return;
        const inbound = decodeSessionPacket(session.keys, session.bmcSessionId, datagram);
        const request = { ...parseRequest(inbound.message), sequence: inbound.sequence, administrator: session.administrator === true };
        requests.push(request);
        if (script.drop("session", count("session"))) return;
        const reply = answer(request);
        if (request.netFn === 6 && request.cmd === 59 && script.completionCode(request) === 0) session.administrator = true;
        send(encodeSessionPacket(session.keys, session.consoleSessionId, ++session.sequence, reply), "session");
        return;
      }
    }
  }

  function answer(request: ScriptedRequest): Uint8Array {
    const code = script.completionCode(request);
    if (code !== 0) return response(request, code, new Uint8Array(0));
    const key = `${request.netFn}/${request.cmd}`;
    switch (key) {
      case "6/59": // Set Session Privilege Level
        return response(request, 0, Uint8Array.of(request.data[0] ?? 0));
      case "0/1": // Get Chassis Status
        return response(request, 0, Uint8Array.of(script.power, 0, 0, 0));
      case "6/1": // Get Device ID, which ipmitool asks for
        return response(request, 0, Uint8Array.of(0x20, 0x01, 0x01, 0x00, 0x02, 0x00, 0, 0, 0, 0, 0));
      case "0/8": // Set System Boot Options
        bootFlags.push(request.data);
        return response(request, 0, new Uint8Array(0));
      case "0/9": {
        const last = [...bootFlags].reverse().find((data) => data[0] === 5) ?? Uint8Array.of(5, 0, 0, 0, 0, 0);
        return response(request, 0, concatBytes(Uint8Array.of(1, 5), last.subarray(1)));
      }
      default: // Chassis Control and Close Session are accepted; other netFns are unknown.
        return response(request, request.netFn === 0 || request.netFn === 6 ? 0 : 0xc1, new Uint8Array(0));
    }
  }

  return {
    port: socket.port,
    get script() {
      return script;
    },
    requests,
    seen,
    bootFlags,
    reset(changes = {}) {
      script = { ...defaults(), ...changes };
      requests.length = 0;
      seen.clear();
      bootFlags.length = 0;
      sessions.clear();
    },
    close() {
      socket.close();
    },
  };
}
