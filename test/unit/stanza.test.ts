import { describe, expect, test } from "vitest";
import { type StanzaObject, formatStanzas, parseStanzas } from "../../server/core/stanza.ts";

describe("stanza files", () => {
  test("default-<type> stanzas apply cumulatively to the stanzas below them", () => {
    const parsed = parseStanzas(`# hand-written, xCAT style
default-node:
    objtype=node
    groups=compute,all
    mgt=ipmi

n01:
    objtype=node
    mac=52:54:00:00:00:01

default-node:
    objtype=node
    mgt=redfish
    bmcusername=root

n02:
    objtype=node
    groups=gpu,all

compute:
    objtype=group
    bmcpassword=secret
`);
    expect(parsed.objects).toEqual([
      { type: "node", name: "n01", attrs: { groups: "compute,all", mgt: "ipmi", mac: "52:54:00:00:00:01" } },
      { type: "node", name: "n02", attrs: { groups: "gpu,all", mgt: "redfish", bmcusername: "root" } },
      { type: "group", name: "compute", attrs: { bmcpassword: "secret" } },
    ]);
  });

  test("values keep '=' and spaces; CRLF is accepted; unsupported types are reported, not dropped silently", () => {
    const parsed = parseStanzas("n01:\r\n    objtype=node\r\n    addkcmdline=console=ttyS0 quiet\r\nclustersite:\r\n  objtype=site\r\n  domain=x\r\n");
    expect(parsed.objects[0]!.attrs).toEqual({ addkcmdline: "console=ttyS0 quiet" });
    expect(parsed.unsupported).toEqual([{ type: "site", name: "clustersite", line: 4 }]);
  });

  test("format then parse is the identity", () => {
    const objects: StanzaObject[] = [
      { type: "node", name: "n01", attrs: { groups: "all", mgt: "ipmi" } },
      { type: "osimage", name: "img", attrs: { osvers: "debian12" } },
    ];
    const text = formatStanzas(objects);
    expect(text.startsWith("# <xCAT data object stanza file>\n\nn01:\n    objtype=node\n    groups=all\n    mgt=ipmi\n\n")).toBe(true);
    expect(parseStanzas(text).objects).toEqual(objects);
  });

  test.each([
    ["    groups=all\n", "line 1: attribute 'groups=all' comes before any 'name:' header"],
    ["n01\n    objtype=node\n", "line 1: expected an object header 'name:'"],
    ["n01:\n    groups\n", "line 2: expected 'attribute=value' in stanza 'n01'"],
    ["n01:\n    =x\n", "line 2: expected 'attribute=value'"],
    ["n01:\n    groups=all\n", "line 1: stanza 'n01' has no objtype= line"],
    ["n01:\n    objtype=node\n    mgt=a\n    mgt=b\n", "line 4: 'mgt' is set twice in stanza 'n01'"],
    ["default-node:\n    objtype=group\n", "has objtype=group; expected node"],
    ["n 01:\n    objtype=node\n", "line 1: expected an object header"],
  ])("malformed input %j is refused with the line", (text, message) => {
    expect(() => parseStanzas(text)).toThrow(message);
  });

  test("random garbage only ever gives a clear error or objects", () => {
    const alphabet = "ab01:=# \n\t-default-node objtype=";
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let i = 0; i < 5000; i++) {
      const text = Array.from({ length: Math.floor(rand() * 80) }, () => alphabet[Math.floor(rand() * alphabet.length)]).join("");
      try {
        parseStanzas(text);
      } catch (e) {
        expect((e as Error).name).toBe("UserError");
      }
    }
  });
});
