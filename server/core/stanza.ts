// xCAT stanza files (man5/xcatstanzafile): `name:` headers, indented `attr=value` lines, `default-<type>:` stanzas.
import { OBJECT_TYPES, type ObjectType } from "./attributes.ts";
import { UserError } from "./errors.ts";

export interface StanzaObject {
  type: ObjectType;
  name: string;
  attrs: Record<string, string>;
}

export interface ParsedStanzas {
  objects: StanzaObject[];
  /** Objects of types provd does not model (site, policy, passwd…): reported, not imported. */
  unsupported: Array<{ type: string; name: string; line: number }>;
}

export const STANZA_HEADER = "# <xCAT data object stanza file>";

interface RawStanza {
  name: string;
  line: number;
  attrs: Record<string, string>;
}

export function parseStanzas(text: string): ParsedStanzas {
  const stanzas = splitStanzas(text);
  const defaults = new Map<string, Record<string, string>>();
  const result: ParsedStanzas = { objects: [], unsupported: [] };
  for (const stanza of stanzas) {
    const type = stanza.attrs.objtype;
    if (!type) throw new UserError(`line ${stanza.line}: stanza '${stanza.name}' has no objtype= line`);
    const defaultOf = /^default-(.+)$/.exec(stanza.name)?.[1];
    if (defaultOf !== undefined) {
      if (defaultOf !== type) {
        throw new UserError(`line ${stanza.line}: stanza '${stanza.name}' has objtype=${type}; expected ${defaultOf}`);
      }
      defaults.set(type, { ...defaults.get(type), ...withoutObjtype(stanza.attrs) });
      continue;
    }
    if (!(OBJECT_TYPES as readonly string[]).includes(type)) {
      result.unsupported.push({ type, name: stanza.name, line: stanza.line });
      continue;
    }
    result.objects.push({
      type: type as ObjectType,
      name: stanza.name,
      attrs: { ...defaults.get(type), ...withoutObjtype(stanza.attrs) },
    });
  }
  return result;
}

function splitStanzas(text: string): RawStanza[] {
  const stanzas: RawStanza[] = [];
  let current: RawStanza | undefined;
  const lines = text.split(/\r?\n/);
  for (const [index, rawLine] of lines.entries()) {
    const lineNo = index + 1;
    const line = rawLine.trimEnd();
    const content = line.trim();
    if (content === "" || content.startsWith("#")) continue;
    if (!/^\s/.test(line)) {
      const header = /^([^\s=:#]+):$/.exec(line);
      if (!header) {
        throw new UserError(`line ${lineNo}: expected an object header 'name:' at the start of the line, got '${content}'`);
      }
      current = { name: header[1]!, line: lineNo, attrs: {} };
      stanzas.push(current);
      continue;
    }
    if (!current) throw new UserError(`line ${lineNo}: attribute '${content}' comes before any 'name:' header`);
    const eq = content.indexOf("=");
    const attr = eq > 0 ? content.slice(0, eq).trim() : "";
    if (!/^[A-Za-z][A-Za-z0-9_.-]*$/.test(attr)) {
      throw new UserError(`line ${lineNo}: expected 'attribute=value' in stanza '${current.name}', got '${content}'`);
    }
    if (attr in current.attrs) throw new UserError(`line ${lineNo}: '${attr}' is set twice in stanza '${current.name}'`);
    current.attrs[attr] = content.slice(eq + 1);
  }
  return stanzas;
}

function withoutObjtype(attrs: Record<string, string>): Record<string, string> {
  const { objtype: _objtype, ...rest } = attrs;
  return rest;
}

/** The `lsdef -z` format, attributes sorted, one blank line after each stanza. */
export function formatStanzas(objects: readonly StanzaObject[]): string {
  const out = [STANZA_HEADER, ""];
  for (const object of objects) {
    out.push(`${object.name}:`, `    objtype=${object.type}`);
    for (const attr of Object.keys(object.attrs).sort()) out.push(`    ${attr}=${object.attrs[attr]}`);
    out.push("");
  }
  return out.join("\n") + "\n";
}
