// Runs one job per item with a global concurrency cap and at most one job per key (one operation per BMC).

export async function fanOut<T>(
  items: readonly T[],
  options: { concurrency: number; keyOf: (item: T) => string },
  job: (item: T) => Promise<void>,
): Promise<void> {
  const queues = new Map<string, T[]>();
  for (const item of items) {
    const key = options.keyOf(item);
    const queue = queues.get(key);
    if (queue) queue.push(item);
    else queues.set(key, [item]);
  }
  // Each key's queue is one lane; lanes run side by side up to the cap.
  const lanes = [...queues.values()];
  let next = 0;
  const worker = async () => {
    while (next < lanes.length) {
      const lane = lanes[next++]!;
      for (const item of lane) await job(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, lanes.length) }, worker));
}
