// A throw-away self-signed certificate for HTTPS test BMCs, made with the openssl CLI (ca-certificates needs it).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCert {
  cert: string;
  key: string;
}

export function makeSelfSignedCert(commonName: string, altName?: string): TestCert {
  const dir = mkdtempSync(join(tmpdir(), "redfish-tls-"));
  try {
    const args = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"];
    args.push("-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-subj", `/CN=${commonName}`);
    if (altName) args.push("-addext", `subjectAltName=${altName}`);
    const run = Bun.spawnSync(["openssl", ...args], { stdout: "pipe", stderr: "pipe" });
    if (run.exitCode !== 0) throw new Error(`openssl failed: ${run.stderr.toString()}`);
    return { cert: readFileSync(join(dir, "cert.pem"), "utf8"), key: readFileSync(join(dir, "key.pem"), "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
