// The smallest UDP surface TFTP needs.
//
// Built on Bun.udpSocket rather than node:dgram: Bun's node:dgram (1.4.5) passes every unconnected
// send through an async dns.lookup and a Buffer.concat, so the bytes are read after send() has
// returned (a reused send buffer goes out corrupted) and each packet costs noticeably more.
// Bun.udpSocket copies the datagram into the kernel before returning.

export type UdpPeer = { readonly address: string; readonly port: number };

export type UdpMessageHandler = (data: Uint8Array, from: UdpPeer) => void;

export interface UdpEndpoint {
  readonly port: number;
  /** Sends `data[0..length)`; the bytes are copied before it returns, so `data` may be reused. */
  send(data: Uint8Array, length: number, to: UdpPeer): void;
  /** Sends `datagrams[0..count)` to one peer in one call (sendmmsg); same copying rule as `send`. */
  sendBatch(datagrams: readonly Uint8Array[], count: number, to: UdpPeer): void;
  close(): void;
}

export async function openUdp(address: string, port: number, onMessage: UdpMessageHandler): Promise<UdpEndpoint> {
  let closed = false;
  // sendMany takes a flat [data, port, address, data, port, address, …] list; reused across calls.
  const batch: Array<Uint8Array | number | string> = [];
  const socket = await Bun.udpSocket({
    hostname: address,
    port,
    socket: {
      data(_socket, data, fromPort, fromAddress) {
        onMessage(data, { address: fromAddress, port: fromPort });
      },
      // Send errors (ICMP unreachable reported by the OS and the like) are the retransmit logic's problem.
      error() {},
    },
  });
  return {
    port: socket.port,
    send(data, length, to) {
      if (closed) return;
      try {
        // A false return (socket buffer full) is a lost datagram; the retransmit timer covers it.
        socket.send(length === data.length ? data : data.subarray(0, length), to.port, to.address);
      } catch {
        // A vanished route or similar: same as a lost datagram.
      }
    },
    sendBatch(datagrams, count, to) {
      if (closed) return;
      batch.length = count * 3;
      for (let i = 0; i < count; i++) {
        batch[i * 3] = datagrams[i] as Uint8Array;
        batch[i * 3 + 1] = to.port;
        batch[i * 3 + 2] = to.address;
      }
      try {
        // Fewer sent than asked (socket buffer full) means lost datagrams; the retransmit timer covers them.
        socket.sendMany(batch);
      } catch {
        // Same as a lost datagram.
      }
    },
    close() {
      if (closed) return;
      closed = true;
      socket.close();
    },
  };
}
