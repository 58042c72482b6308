// The foundation issue's acceptance scenario, through the real CLI against a real server process.
import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type TestServer, removeDir, startServer, tempDir } from "./harness.ts";

const lines = (s: string) => s.split("\n").filter(Boolean);

describe("provctl against provctl serve", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ token: "e2e-token" });
  });
  afterAll(async () => {
    await server.stop();
    removeDir(server.dataDir);
  });

  test("mkdef n[01-60], nodels by group and with exclusions, lsdef shows the group's value", () => {
    const made = server.run(["mkdef", "-t", "node", "n[01-60]", "groups=compute,all", "mgt=redfish"]);
    expect(made.stdout).toBe("60 object definitions have been created or modified.\n");
    const compute = lines(server.run(["nodels", "compute"]).stdout);
    expect(compute).toEqual(Array.from({ length: 60 }, (_, i) => `n${String(i + 1).padStart(2, "0")}`));
    expect(lines(server.run(["nodels", "compute,-n[05-10]"]).stdout)).toHaveLength(54);

    expect(server.run(["chdef", "-t", "group", "compute", "mgt=ipmi"]).code).toBe(0);
    expect(server.run(["chdef", "n07", "mgt="]).code).toBe(0);
    expect(server.run(["lsdef", "n07", "-i", "mgt"]).stdout).toBe("Object name: n07\n    mgt=ipmi\n");
    expect(server.run(["lsdef", "n07", "-i", "mgt", "-b"]).stdout).toBe("Object name: n07\n    mgt=ipmi (inherited from group compute)\n");
    expect(server.run(["nodels", "n0[6-8]", "mgt"]).stdout).toBe("n06: redfish\nn07: ipmi\nn08: redfish\n");
    expect(server.run(["nodels", "n07", "mgt", "groups"]).stdout).toBe("n07: mgt: ipmi\nn07: groups: compute,all\n");
    expect(lines(server.run(["nodels", "compute", "mgt==ipmi"]).stdout)).toEqual(["n07"]);
    expect(server.run(["lsdef", "n07", "-c", "-i", "groups,mgt"]).stdout).toBe("n07: groups=compute,all\nn07: mgt=ipmi\n");
    const json = JSON.parse(server.run(["nodels", "n01", "mgt", "-o", "json"]).stdout) as unknown;
    expect(json).toEqual([{ name: "n01", attrs: { mgt: "redfish" } }]);
  });

  test("a 60-node import where one MAC clashes creates none, and says which node owns it", () => {
    expect(server.run(["mkdef", "m00", "groups=all", "mac=52:54:00:aa:00:07"]).code).toBe(0);
    const stanza = Array.from({ length: 60 }, (_, i) => {
      const mac = i === 6 ? "52:54:00:AA:00:07" : `52:54:00:bb:00:${i.toString(16).padStart(2, "0")}`;
      return `k${String(i + 1).padStart(2, "0")}:\n    objtype=node\n    groups=all\n    mac=${mac}\n`;
    }).join("\n");
    const result = server.run(["mkdef", "-z"], { stdin: stanza });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe("Error: k07: MAC 52:54:00:aa:00:07 already belongs to node m00\n");
    expect(server.run(["nodels", "k01"]).stderr).toContain("Invalid nodes and/or groups in noderange: k01");
    expect(server.run(["rmdef", "m00"]).stdout).toBe("1 object definitions have been removed.\n");
  });

  test("bad input names what is wrong, and exits 1", () => {
    expect(server.run(["nodels", "ghost,n01,spook"])).toMatchObject({ code: 1, stderr: "Error: Invalid nodes and/or groups in noderange: ghost,spook\n" });
    expect(server.run(["lsdef", "--colour"]).stderr).toBe("Error: lsdef: unknown option --colour (see lsdef --help)\n");
    expect(server.run(["mkdef", "x[05-03]", "groups=all"]).stderr).toMatch(/^Error: reversed range/);
    expect(server.run(["chdef", "n01", "mgt=kvm"]).stderr).toBe("Error: mgt=kvm: expected one of redfish, ipmi\n");
    expect(server.run(["lsdef", "-t", "site"]).stderr).toContain("unknown object type 'site'");
    expect(server.run(["frobnicate"]).stderr).toContain("unknown command 'frobnicate'");
    expect(server.run(["nodels"], { env: { PROVCTL_TOKEN: "nope" } }).stderr).toContain("the token is not valid for this server");
    expect(server.run(["nodels"], { env: { PROVCTL_URL: "http://127.0.0.1:1" } }).stderr).toContain("is 'provctl serve' running?");
    // Power actions are checked before any server is asked: no server at this URL, and the error is the action.
    const offline = { env: { PROVCTL_URL: "http://127.0.0.1:1" } };
    expect(server.run(["rpower", "n01", "dance"], offline)).toMatchObject({ code: 1, stderr: expect.stringContaining("Unsupported command: rpower dance (expected one of on, off") });
    expect(server.run(["rpower", "n01"], offline).stderr).toBe("Error: Please enter an action (eg: boot,off,on, etc)\n");
    expect(server.run(["rsetboot", "n01", "usb"], offline).stderr).toContain("Unsupported boot device 'usb' (expected net, hd, cd, floppy, setup, def or stat)");
  });

  test("^file node lists are read by the client", () => {
    const dir = tempDir("nodelist");
    const file = join(dir, "nodes.txt");
    Bun.write(file, "# reinstall these\nn01\nn03:comment\n");
    expect(lines(server.run(["nodels", `^${file}`]).stdout)).toEqual(["n01", "n03"]);
    removeDir(dir);
  });

  test("every command has --help", () => {
    const top = server.run(["--help"]);
    for (const command of ["serve", "mkdef", "chdef", "lsdef", "rmdef", "nodels", "login"]) {
      expect(top.stdout).toContain(`  ${command} `);
      const help = server.run([command, "--help"]);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`provctl ${command}`);
    }
    expect(server.run(["serve", "--help"]).stdout).toContain("PROVCTL_DATA_DIR");
  });
});

describe("stanza files", () => {
  test("lsdef -z all | mkdef -z on an empty database recreates everything", async () => {
    const first = await startServer({ token: "t" });
    first.run(["mkdef", "-t", "group", "compute", "mgt=ipmi", "bmcusername=ADMIN", "bmcpassword=s3cret", "ip=|n(\\d+)|10.0.0.($1+0)|"]);
    first.run(["mkdef", "n[01-04]", "groups=compute,all", "addkcmdline=console=ttyS0,115200"]);
    first.run(["chdef", "n02", "mac=52:54:00:00:00:02", "serialport=0", "tags=canary"]);
    first.run(["mkdef", "-t", "osimage", "debian12-x86_64-netboot-compute", "osvers=debian12", "osarch=x86_64", "profile=compute", "provmethod=netboot"]);
    first.run(["mkdef", "-t", "network", "boot", "net=10.0.0.0", "mask=255.255.255.0", "mgtifname=br0", "dynamicrange=10.0.0.100-10.0.0.150"]);
    const dump = first.run(["lsdef", "-z", "all"]).stdout;
    expect(dump).toContain("bmcpassword=enc:v1:");
    expect(dump).not.toContain("s3cret");
    await first.stop();

    // Same data dir (and so the same secret.key), database gone.
    for (const f of ["provd.db", "provd.db-wal", "provd.db-shm"]) rmSync(join(first.dataDir, f), { force: true });
    const second = await startServer({ dataDir: first.dataDir, token: "t" });
    expect(second.run(["nodels"]).stdout).toBe("");
    expect(second.run(["mkdef", "-z"], { stdin: dump }).stdout).toBe("8 object definitions have been created or modified.\n");
    expect(second.run(["lsdef", "-z", "all"]).stdout).toBe(dump);
    expect(second.run(["nodels", "n03", "ip"]).stdout).toBe("n03: 10.0.0.3\n");
    await second.stop();
    removeDir(first.dataDir);
  });

  test("a stanza file written the way a real xCAT exports imports, with default-node entries", async () => {
    const server = await startServer({ token: "t" });
    const xcatExport = `# <xCAT data object stanza file>

clustersite:
    objtype=site
    domain=cluster.example
    master=10.0.0.1

default-node:
    objtype=node
    groups=compute,all
    mgt=ipmi
    netboot=xnba
    serialport=0
    serialspeed=115200

cn001:
    objtype=node
    arch=x86_64
    bmc=10.1.0.1
    bmcusername=USERID
    bmcpassword=PASSW0RD
    ip=10.0.0.101
    mac=42:a5:1e:00:00:01
    os=rhels8.6.0
    profile=compute
    provmethod=rhels8.6.0-x86_64-netboot-compute
    status=booted
    statustime=11-21-2026 10:02:11

default-node:
    objtype=node
    mgt=redfish

cn002:
    objtype=node
    ip=10.0.0.102
    mac=42:a5:1e:00:00:02|42:a5:1e:00:01:02
    postscripts=syslog,remoteshell,syncfiles

rhels8.6.0-x86_64-netboot-compute:
    objtype=osimage
    imagetype=linux
    osarch=x86_64
    osname=Linux
    osvers=rhels8.6.0
    permission=755
    pkglist=/opt/xcat/share/xcat/netboot/rh/compute.rhels8.x86_64.pkglist
    profile=compute
    provmethod=netboot
    rootimgdir=/install/netboot/rhels8.6.0/x86_64/compute
`;
    const result = server.run(["mkdef", "-z"], { stdin: xcatExport });
    expect(result.stdout).toBe("3 object definitions have been created or modified.\n");
    expect(result.stderr).toBe("Warning: line 3: clustersite (objtype=site) not imported: provd does not model site objects\n");
    const cn001 = server.run(["lsdef", "cn001"]).stdout;
    expect(cn001).toContain("    osimage=rhels8.6.0-x86_64-netboot-compute\n");
    expect(cn001).toContain("    mgt=ipmi\n");
    expect(cn001).toContain("    statustime=11-21-2026 10:02:11\n");
    expect(cn001).toMatch(/ {4}bmcpassword=enc:v1:/);
    expect(server.run(["nodels", "cn002", "mgt", "mac", "groups", "serialspeed"]).stdout).toBe(
      "cn002: mgt: redfish\ncn002: mac: 42:a5:1e:00:00:02|42:a5:1e:00:01:02\ncn002: groups: compute,all\ncn002: serialspeed: 115200\n",
    );
    expect(server.run(["lsdef", "-t", "osimage", "-o", "rhels8.6.0-x86_64-netboot-compute", "-i", "rootimgdir"]).stdout).toContain(
      "rootimgdir=/install/netboot/rhels8.6.0/x86_64/compute",
    );
    await server.stop();
    removeDir(server.dataDir);
  });
});

describe("first start", () => {
  test("an admin token is printed once, works with login, and is stored only hashed; the key file is 0600", async () => {
    const dataDir = tempDir("first");
    const server = await startServer({ dataDir });
    await Bun.sleep(100);
    const token = /export PROVCTL_TOKEN=(\S+)/.exec(server.stdout())?.[1];
    expect(token).toMatch(/^pvd_/);
    const clientConfig = join(dataDir, "client.json");
    const env = { PROVCTL_CLIENT_CONFIG: clientConfig };
    expect(server.run(["nodels"], { env }).stderr).toContain("missing bearer token");
    expect(server.run(["login", "--url", server.url, "--token", token!], { env }).code).toBe(0);
    expect(statSync(clientConfig).mode & 0o777).toBe(0o600);
    expect(server.run(["mkdef", "a1", "groups=all"], { env }).code).toBe(0);
    expect(statSync(join(dataDir, "secret.key")).mode & 0o777).toBe(0o600);
    await server.stop();
    expect(readFileSync(join(dataDir, "provd.db")).includes(token!)).toBe(false);

    const again = await startServer({ dataDir });
    await Bun.sleep(100);
    expect(again.stdout()).not.toContain("PROVCTL_TOKEN");
    expect(again.run(["nodels"], { env }).stdout).toBe("a1\n");
    await again.stop();
    expect(existsSync(join(dataDir, "provd.db"))).toBe(true);
    removeDir(dataDir);
  });
});
