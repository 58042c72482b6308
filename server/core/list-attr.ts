/** chdef -p: append the items not already present. */
export function addItems(current: string | undefined, added: string, separator: string): string {
  const items = split(current, separator);
  for (const item of split(added, separator)) if (!items.includes(item)) items.push(item);
  return items.join(separator);
}

/** chdef -m: remove the given items. */
export function removeItems(current: string | undefined, removed: string, separator: string): string {
  const drop = new Set(split(removed, separator));
  return split(current, separator).filter((item) => !drop.has(item)).join(separator);
}

export function split(value: string | undefined, separator: string): string[] {
  return (value ?? "").split(separator).map((s) => s.trim()).filter(Boolean);
}
