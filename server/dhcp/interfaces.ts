// What the server needs to know about an interface it serves: its IPv4 address and MTU.
import { interfaceIpv4, interfaceMtu } from "../net/interface-ipv4.ts";

export interface InterfaceInfo {
  name: string;
  /** The first IPv4 address: what replies name as server identifier and next-server. */
  address: string;
  mtu: number;
}

const DEFAULT_MTU = 1500;

/** Throws if the interface does not exist or has no IPv4 address (in this network namespace). */
export function interfaceInfo(ifname: string): InterfaceInfo {
  const address = interfaceIpv4(ifname);
  if (address === undefined) throw new Error(`interface ${ifname} does not exist or has no IPv4 address; DHCP needs one to answer from`);
  const mtu = interfaceMtu(ifname);
  return { name: ifname, address, mtu: mtu !== undefined && mtu >= 576 ? mtu : DEFAULT_MTU };
}
