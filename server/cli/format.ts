// xCAT's listing formats for lsdef and nodels.
import type { ListedObject } from "../core/inventory.ts";
import { STANZA_HEADER, formatStanzas } from "../core/stanza.ts";

export type Listing = "names" | "long" | "compressed" | "stanza";

export interface ListOptions {
  /** Only these attributes (lsdef -i). */
  only?: readonly string[];
  /** Append "(inherited from group X)" (lsdef/nodels -b). */
  showSource?: boolean;
}

export function formatListing(objects: readonly ListedObject[], listing: Listing, options: ListOptions = {}): string {
  if (listing === "stanza") return objects.length ? formatStanzas(objects.map(forStanza).map((o) => filter(o, options))) : `${STANZA_HEADER}\n\n`;
  const lines: string[] = [];
  for (const object of objects) {
    if (listing === "names") {
      lines.push(`${object.name}  (${object.type})`);
      continue;
    }
    if (listing === "long") lines.push(`Object name: ${object.name}`);
    const shown = filter(object, options);
    for (const attr of Object.keys(shown.attrs)) {
      const text = `${attr}=${shown.attrs[attr]}${sourceNote(object, attr, options)}`;
      lines.push(listing === "long" ? `    ${text}` : `${object.name}: ${text}`);
    }
  }
  return lines.length ? lines.join("\n") + "\n" : "";
}

/** A stanza holds what is set on the object itself: inherited values and computed members stay out. */
function forStanza(object: ListedObject): ListedObject {
  const attrs = Object.fromEntries(
    Object.entries(object.attrs).filter(([attr]) => !object.inherited?.[attr] && !(object.type === "group" && attr === "members")),
  );
  return { type: object.type, name: object.name, attrs };
}

function filter(object: ListedObject, options: ListOptions): ListedObject {
  if (!options.only) return object;
  const attrs = Object.fromEntries(options.only.filter((a) => a in object.attrs).map((a) => [a, object.attrs[a]!]));
  return { ...object, attrs };
}

export function sourceNote(object: ListedObject, attr: string, options: ListOptions): string {
  const from = object.inherited?.[attr];
  return options.showSource && from ? ` (inherited from group ${from})` : "";
}
