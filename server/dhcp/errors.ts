/** A datagram that is not a well-formed BOOTP/DHCP message. The only error decodePacket throws. */
export class DhcpDecodeError extends Error {
  override readonly name = "DhcpDecodeError";
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** A packet we were asked to send that cannot be put on the wire as given (too big, bad field). */
export class DhcpEncodeError extends Error {
  override readonly name = "DhcpEncodeError";
  constructor(readonly reason: string) {
    super(reason);
  }
}
