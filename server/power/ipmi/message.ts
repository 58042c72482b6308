// The IPMI LAN message carried inside both framings (IPMI 2.0 §13.8):
//   request:  rsAddr 20 | netFn<<2 | chk1 | rqAddr 81 | rqSeq<<2 | cmd | data… | chk2
//   response: rqAddr 81 | netFn<<2 | chk1 | rsAddr 20 | rqSeq<<2 | cmd | cc | data… | chk2
// Pure functions; decoding throws only BmcError("protocol").
import { BmcError } from "../driver.ts";

export const BMC_ADDRESS = 0x20;
/** Remote console software ID 0x40, as a slave-address-style byte. */
export const CONSOLE_ADDRESS = 0x81;

export const NetFn = { chassis: 0x00, app: 0x06 } as const;

export interface IpmiRequest {
  readonly netFn: number;
  readonly cmd: number;
  readonly data: Uint8Array;
}

export interface IpmiResponse {
  /** The response netFn (request netFn + 1). */
  readonly netFn: number;
  readonly cmd: number;
  readonly rqSeq: number;
  readonly completionCode: number;
  readonly data: Uint8Array;
}

/** Two's complement of the byte sum of buf[start..end): the checksum IPMI uses twice per message. */
export function checksum(buf: Uint8Array, start: number, end: number): number {
  let sum = 0;
  for (let i = start; i < end; i++) sum = (sum + (buf[i] ?? 0)) & 0xff;
  return (0x100 - sum) & 0xff;
}

/** rqSeq is 6 bits; the LUNs are always 0. */
export function encodeRequest(request: IpmiRequest, rqSeq: number): Uint8Array {
  const out = new Uint8Array(7 + request.data.length);
  out[0] = BMC_ADDRESS;
  out[1] = (request.netFn & 0x3f) << 2;
  out[2] = checksum(out, 0, 2);
  out[3] = CONSOLE_ADDRESS;
  out[4] = (rqSeq & 0x3f) << 2;
  out[5] = request.cmd & 0xff;
  out.set(request.data, 6);
  out[out.length - 1] = checksum(out, 3, out.length - 1);
  return out;
}

const MIN_RESPONSE = 8;

export function decodeResponse(buf: Uint8Array): IpmiResponse {
  if (buf.length < MIN_RESPONSE) throw new BmcError("protocol", `IPMI response too short (${buf.length} bytes)`);
  if (checksum(buf, 0, 2) !== buf[2]) throw new BmcError("protocol", "IPMI response header checksum is wrong");
  if (checksum(buf, 3, buf.length - 1) !== buf[buf.length - 1]) {
    throw new BmcError("protocol", "IPMI response data checksum is wrong");
  }
  const netFnLun = buf[1] ?? 0;
  if ((netFnLun >> 2) % 2 !== 1) throw new BmcError("protocol", "IPMI message is a request, not a response");
  if (buf[0] !== CONSOLE_ADDRESS) throw new BmcError("protocol", "IPMI response is addressed to someone else");
  return {
    netFn: netFnLun >> 2,
    cmd: buf[5] ?? 0,
    rqSeq: (buf[4] ?? 0) >> 2,
    completionCode: buf[6] ?? 0,
    data: buf.slice(7, buf.length - 1),
  };
}

/** Whether `response` answers `request` sent with `rqSeq`. */
export function answers(response: IpmiResponse, request: IpmiRequest, rqSeq: number): boolean {
  return response.netFn === request.netFn + 1 && response.cmd === request.cmd && response.rqSeq === (rqSeq & 0x3f);
}
