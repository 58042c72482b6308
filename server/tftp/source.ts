// What a transfer reads from: a file, generated text or an embedded binary.

export type TftpSource = {
  /** Bytes in the file; sent as `tsize` and used to find the last block. */
  readonly size: number;
  /**
   * Returns `min(length, size - offset)` bytes starting at `offset`. The transfer asks for large
   * chunks and keeps the returned array until it asks for the next one, so a view is fine.
   */
  read(offset: number, length: number): Uint8Array | Promise<Uint8Array>;
  /** Called once when the transfer ends, however it ends. */
  close?(): void | Promise<void>;
};

/** Serves bytes held in memory; transfers share them without copying. */
export function memorySource(bytes: Uint8Array): TftpSource {
  return {
    size: bytes.length,
    read: (offset, length) => bytes.subarray(offset, Math.min(bytes.length, offset + length)),
  };
}
