import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { beforeEach, describe, expect, test } from "vitest";
import { Inventory } from "../../server/core/inventory.ts";
import { ObjectStore } from "../../server/core/objects.ts";
import { secretBoxFromKeyFile } from "../../server/core/secret-box.ts";
import { openDatabase } from "../../server/db/open.ts";
import { testTempDir } from "../temp-dir.ts";

function freshStore() {
  const dir = testTempDir("provd-objects-");
  const db = openDatabase(join(dir, "provd.db"));
  const store = new ObjectStore(db, secretBoxFromKeyFile(join(dir, "secret.key")));
  return { dir, db, store, inventory: new Inventory(store) };
}

const node = (name: string, attrs: Record<string, string>) => ({ type: "node" as const, name, attrs });
const group = (name: string, attrs: Record<string, string>) => ({ type: "group" as const, name, attrs });

describe("object store", () => {
  let s: ReturnType<typeof freshStore>;
  beforeEach(() => {
    s = freshStore();
  });

  test("per-attribute inheritance: node first, then groups in order (xCAT Table.pm)", () => {
    s.store.create([group("a", { mgt: "ipmi" }), group("b", { mgt: "redfish", bmc: "10.1.0.9" }), node("n1", { groups: "a,b" })]);
    const [n1] = s.inventory.list("node", ["n1"]);
    expect(n1!.attrs.mgt).toBe("ipmi");
    expect(n1!.attrs.bmc).toBe("10.1.0.9");
    expect(n1!.inherited).toEqual({ mgt: "a", bmc: "b" });
    s.store.change([node("n1", { mgt: "redfish" })], "set");
    expect(s.inventory.list("node", ["n1"])[0]!.inherited).toEqual({ bmc: "b" });
  });

  test("groups and MACs are not inherited", () => {
    s.store.create([group("g", { tags: "x" }), node("n1", { groups: "g", mac: "52:54:00:00:00:01" })]);
    expect(s.inventory.list("node", ["n1"])[0]!.attrs).toMatchObject({ groups: "g", mac: "52:54:00:00:00:01", tags: "x" });
  });

  test("regex rows compute a member's value from its name", () => {
    s.store.create([
      group("compute", { ip: "|node(\\d+)|10.0.0.($1+0)|", bmc: "/\\z/-bmc/" }),
      node("node07", { groups: "compute" }),
    ]);
    const [n] = s.inventory.list("node", ["node07"]);
    expect(n!.attrs.ip).toBe("10.0.0.7");
    expect(n!.attrs.bmc).toBe("node07-bmc");
  });

  test("a MAC clash names the other node and creates nothing of the batch", () => {
    s.store.create([node("n01", { groups: "all", mac: "52:54:00:00:00:01" })]);
    const batch = Array.from({ length: 60 }, (_, i) => node(`m${String(i + 1).padStart(2, "0")}`, {
      groups: "all",
      mac: i === 41 ? "52-54-00-00-00-01" : `52:54:00:00:01:${(i + 1).toString(16).padStart(2, "0")}`,
    }));
    expect(() => s.store.create(batch)).toThrow("m42: MAC 52:54:00:00:00:01 already belongs to node n01");
    expect(s.store.nodeNames()).toEqual(["n01"]);
  });

  test("an IP clash, also inside one batch, is refused", () => {
    s.store.create([node("n01", { groups: "all", ip: "10.0.0.1" })]);
    expect(() => s.store.create([node("n02", { groups: "all", ip: "10.0.0.1" })])).toThrow("IP 10.0.0.1 already belongs to node n01");
    expect(() => s.store.create([node("n03", { groups: "all", ip: "10.0.0.3" }), node("n04", { groups: "all", ip: "10.0.0.3" })])).toThrow(
      "n04: IP 10.0.0.3 already belongs to node n03",
    );
    expect(s.store.nodeNames()).toEqual(["n01"]);
  });

  test("a failed change leaves every attribute as it was", () => {
    s.store.create([node("n01", { groups: "all", mgt: "ipmi" }), node("n02", { groups: "all", mgt: "ipmi" })]);
    expect(() => s.store.change([node("n01", { mgt: "redfish" }), node("n02", { mgt: "bogus" })], "set")).toThrow("mgt=bogus");
    expect(s.inventory.list("node").map((n) => n.attrs.mgt)).toEqual(["ipmi", "ipmi"]);
  });

  test("values are checked and normalised", () => {
    s.store.create([node("n01", { groups: "all", mac: "5254.0012.3456|AA-BB-CC-DD-EE-FF", ip: "010.0.0.1" })]);
    expect(s.inventory.list("node")[0]!.attrs).toMatchObject({ mac: "52:54:00:12:34:56|aa:bb:cc:dd:ee:ff", ip: "10.0.0.1" });
    for (const [attrs, message] of [
      [{ mac: "zz" }, "not a MAC address"],
      [{ ip: "10.0.0.256" }, "not an IPv4 address"],
      [{ mgt: "kvm" }, "expected one of redfish, ipmi"],
      [{ bmcport: "70000" }, "from 1 to 65535"],
      [{ arch: "sparc" }, "arch=sparc"],
    ] as const) {
      expect(() => s.store.change([node("n01", attrs)], "set")).toThrow(message);
    }
    expect(() => s.store.create([node("bad name", { groups: "all" })])).toThrow("invalid node name 'bad name'");
    expect(() => s.store.create([node("n02", {})])).toThrow("every node needs a groups attribute");
  });

  test("chdef -p/-m edit list attributes; an empty value removes", () => {
    s.store.create([node("n01", { groups: "all", addkcmdline: "quiet" })]);
    s.store.change([node("n01", { groups: "gpu,all" })], "add");
    expect(s.inventory.list("node")[0]!.attrs.groups).toBe("all,gpu");
    s.store.change([node("n01", { groups: "all" })], "remove");
    expect(s.inventory.list("node")[0]!.attrs.groups).toBe("gpu");
    s.store.change([node("n01", { addkcmdline: "" })], "set");
    expect(s.inventory.list("node")[0]!.attrs.addkcmdline).toBeUndefined();
  });

  test("mkdef of an existing object fails unless forced", () => {
    s.store.create([node("n01", { groups: "all", mgt: "ipmi" })]);
    expect(() => s.store.create([node("n01", { groups: "all" })])).toThrow("already exists");
    s.store.create([node("n01", { groups: "all" })], { force: true });
    expect(s.inventory.list("node")[0]!.attrs.mgt).toBeUndefined();
  });

  test("rename keeps groups and MACs; removing a group takes it off its members", () => {
    s.store.create([group("gpu", { arch: "x86_64" }), node("n01", { groups: "all,gpu", mac: "52:54:00:00:00:01" })]);
    s.store.rename("node", "n01", "n99");
    expect(s.inventory.list("node")[0]).toMatchObject({ name: "n99", attrs: { groups: "all,gpu", mac: "52:54:00:00:00:01" } });
    s.store.remove("group", ["gpu"]);
    expect(s.inventory.list("node")[0]!.attrs.groups).toBe("all");
  });

  test("groups named only by nodes exist, with members; names cannot clash with nodes", () => {
    s.store.create([node("n01", { groups: "rack1,all" })]);
    expect(s.inventory.list("group").map((g) => [g.name, g.attrs.members])).toEqual([["all", "n01"], ["rack1", "n01"]]);
    expect(() => s.store.create([group("n01", {})])).toThrow("already used by nodes");
    expect(() => s.store.create([node("rack1", { groups: "all" })])).toThrow("already used by groups");
  });

  test("bmcpassword is encrypted at rest with a 0600 key file and never stored or listed in plain text", () => {
    s.store.create([node("n01", { groups: "all", bmcpassword: "hunter2-secret" })]);
    const listed = s.inventory.list("node")[0]!.attrs.bmcpassword!;
    expect(listed).toMatch(/^enc:v1:/);
    expect(s.store.revealSecret(listed)).toBe("hunter2-secret");
    s.db.$client.run("PRAGMA wal_checkpoint(FULL)");
    expect(readFileSync(join(s.dir, "provd.db")).includes("hunter2-secret")).toBe(false);
    expect(statSync(join(s.dir, "secret.key")).mode & 0o777).toBe(0o600);
    expect(() => s.store.change([node("n01", { bmcpassword: "enc:v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" })], "set")).toThrow(
      "another server's secret.key",
    );
  });

  test("xCAT attributes provd does not model are kept; unknown names warn", () => {
    const result = s.store.create([node("n01", { groups: "all", serialport: "0", "nodetype.provmethod": "compute", mgmt: "x" })]);
    expect(s.inventory.list("node")[0]!.attrs).toMatchObject({ serialport: "0", osimage: "compute", mgmt: "x" });
    expect(result.warnings).toEqual(["n01: 'mgmt' is not an attribute provd models; it is kept as a free-form attribute"]);
  });

  test("noderange selectors see inherited values; 'all' is every node", () => {
    s.store.create([group("compute", { mgt: "ipmi" }), node("n01", { groups: "compute" }), node("n02", { groups: "other", mgt: "redfish" })]);
    expect(s.inventory.expand("mgt==ipmi").nodes).toEqual(["n01"]);
    expect(s.inventory.expand("all").nodes).toEqual(["n01", "n02"]);
    expect(() => s.inventory.expand("n01,bogus")).toThrow("Invalid nodes and/or groups in noderange: bogus");
  });
});
