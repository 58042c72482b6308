// The DMTF mockup as a map from URI to resource: one index.json per resource below /redfish/v1.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

export type Resource = Record<string, unknown>;

export interface Mockup {
  resources: Map<string, Resource>;
  /** CSDL document for /redfish/v1/$metadata. */
  metadata: string | undefined;
  systemPath: string;
}

export const DEFAULT_MOCKUP_DIR = fileURLToPath(new URL("../../../../shared/redfish/public-rackmount1", import.meta.url));

export function loadMockup(dir: string, systemId: string | undefined): Mockup {
  if (!existsSync(join(dir, "index.json"))) {
    throw new Error(`no Redfish mockup at ${dir} (expected ../shared/redfish/public-rackmount1 beside the repo)`);
  }
  const texts = new Map<string, string>();
  for (const file of walk(dir)) {
    const rel = relative(dir, file).split(sep).slice(0, -1).join("/");
    texts.set(rel === "" ? "/redfish/v1" : `/redfish/v1/${rel}`, readFileSync(file, "utf8"));
  }
  const members = (JSON.parse(texts.get("/redfish/v1/Systems") ?? "{}") as { Members?: Array<{ "@odata.id": string }> }).Members;
  const originalPath = members?.[0]?.["@odata.id"];
  if (!originalPath) throw new Error(`${dir}: the Systems collection lists no system`);
  const systemPath = systemId ? `/redfish/v1/Systems/${systemId}` : originalPath;
  const resources = new Map<string, Resource>();
  for (const [path, text] of texts) {
    // Renaming the system everywhere proves a client finds it instead of assuming an id.
    const renamed = systemId ? text.replaceAll(`"${originalPath}`, `"${systemPath}`) : text;
    resources.set(path.startsWith(originalPath) ? systemPath + path.slice(originalPath.length) : path, JSON.parse(renamed) as Resource);
  }
  const system = resources.get(systemPath);
  if (system && systemId) system.Id = systemId;
  const metadataFile = join(dir, "$metadata", "index.xml");
  return { resources, metadata: existsSync(metadataFile) ? readFileSync(metadataFile, "utf8") : undefined, systemPath };
}

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.name === "index.json") yield path;
  }
}
