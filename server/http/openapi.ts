// OpenAPI 3.1 description of the REST API, served at /api/v1/openapi.json.
const attrs = { type: "object", additionalProperties: { type: "string" }, description: "xCAT-style attribute=value map" };
const named = { type: "object", required: ["name"], additionalProperties: false, properties: { name: { type: "string" }, attrs } };
const listed = {
  type: "object",
  properties: {
    type: { type: "string" },
    name: { type: "string" },
    attrs,
    inherited: { type: "object", additionalProperties: { type: "string" }, description: "attribute → group it came from (nodes)" },
  },
};
const error = { type: "object", properties: { error: { type: "string" } } };
const write = { type: "object", properties: { count: { type: "integer" }, warnings: { type: "array", items: { type: "string" } } } };
const files = { type: "object", additionalProperties: { type: "string" }, description: "contents of ^file node lists, by path" };
const json = (schema: object) => ({ content: { "application/json": { schema } } });
const ok = (schema: object, description = "OK") => ({ description, ...json(schema) });
const errors = { "400": ok(error, "bad request"), "401": ok(error, "missing or wrong token"), "404": ok(error, "unknown object"), "409": ok(error, "conflict (exists, MAC/IP clash)") };
const plural = { name: "plural", in: "path", required: true, schema: { enum: ["nodes", "groups", "osimages", "networks"] } };
const name = { name: "name", in: "path", required: true, schema: { type: "string" } };
const ref = { name: "ref", in: "path", required: true, schema: { type: "string" }, description: "version id, unique id prefix, or alias" };
const jobId = { name: "id", in: "path", required: true, schema: { type: "integer" } };
const job = {
  type: "object",
  properties: {
    id: { type: "integer" },
    osimage: { type: "string" },
    kind: { enum: ["build", "customize", "pack"] },
    state: { enum: ["queued", "building", "packing", "validating", "success", "error", "cancelled"] },
    stage: { type: "string" },
    progress: { type: "integer", minimum: 0, maximum: 100 },
    version: { type: "string" },
    error: { type: "string" },
  },
};

export function openApiDocument(version: string): object {
  return {
    openapi: "3.1.0",
    info: { title: "provd API", version, description: "Nodes, groups, osimages and networks with xCAT semantics. Every route needs `Authorization: Bearer <token>`." },
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
    security: [{ bearer: [] }],
    paths: {
      "/api/v1/{plural}": {
        get: {
          summary: "List objects (nodes with inherited values resolved)",
          parameters: [plural, { name: "range", in: "query", schema: { type: "string" }, description: "noderange (nodes) or comma list" }, { name: "names", in: "query", schema: { type: "string" } }],
          responses: { "200": ok({ type: "object", properties: { objects: { type: "array", items: listed } } }), ...errors },
        },
        post: {
          summary: "Create objects (mkdef); node names may be ranges such as n[01-60]",
          parameters: [plural],
          requestBody: json({ type: "object", required: ["objects"], additionalProperties: false, properties: { objects: { type: "array", items: named }, force: { type: "boolean" } } }),
          responses: { "201": ok(write), ...errors },
        },
        patch: {
          summary: "Change objects (chdef); mode add/remove edits list attributes",
          parameters: [plural],
          requestBody: json({ type: "object", required: ["objects"], additionalProperties: false, properties: { objects: { type: "array", items: named }, mode: { enum: ["set", "add", "remove"] }, files } }),
          responses: { "200": ok(write), ...errors },
        },
        delete: { summary: "Remove objects (rmdef)", parameters: [plural, { name: "range", in: "query", schema: { type: "string" } }, { name: "names", in: "query", schema: { type: "string" } }], responses: { "200": ok(write), ...errors } },
      },
      "/api/v1/{plural}/{name}": {
        get: { summary: "One object", parameters: [plural, name], responses: { "200": ok(listed), ...errors } },
        patch: {
          summary: "Change one object",
          parameters: [plural, name],
          requestBody: json({ type: "object", required: ["attrs"], additionalProperties: false, properties: { attrs, mode: { enum: ["set", "add", "remove"] } } }),
          responses: { "200": ok(write), ...errors },
        },
        delete: { summary: "Remove one object", parameters: [plural, name], responses: { "200": ok(write), ...errors } },
      },
      "/api/v1/{plural}/{name}/rename": {
        post: { summary: "Rename (chdef -n)", parameters: [plural, name], requestBody: json({ type: "object", required: ["to"], properties: { to: { type: "string" } } }), responses: { "200": ok(write), ...errors } },
      },
      "/api/v1/noderange": {
        post: {
          summary: "Expand an xCAT noderange",
          requestBody: json({ type: "object", required: ["noderange"], additionalProperties: false, properties: { noderange: { type: "string" }, files } }),
          responses: { "200": ok({ type: "object", properties: { nodes: { type: "array", items: { type: "string" } }, warnings: { type: "array", items: { type: "string" } } } }), ...errors },
        },
      },
      "/api/v1/query": {
        post: {
          summary: "List objects selected by a noderange that may use ^file",
          requestBody: json({ type: "object", required: ["type"], additionalProperties: false, properties: { type: { enum: ["node", "group", "osimage", "network"] }, range: { type: "string" }, names: { type: "array", items: { type: "string" } }, files } }),
          responses: { "200": ok({ type: "object", properties: { objects: { type: "array", items: listed } } }), ...errors },
        },
      },
      "/api/v1/remove": {
        post: {
          summary: "Remove the objects a noderange (which may use ^file) or a name list selects (rmdef)",
          requestBody: json({ type: "object", required: ["type"], additionalProperties: false, properties: { type: { enum: ["node", "group", "osimage", "network"] }, range: { type: "string" }, names: { type: "array", items: { type: "string" } }, files } }),
          responses: { "200": ok(write), ...errors },
        },
      },
      "/api/v1/blobs": {
        put: {
          summary: "Upload a file (kernel, initrd, rootfs); stored under its sha256. Optional header x-sha256 is checked",
          requestBody: { content: { "application/octet-stream": { schema: { type: "string", format: "binary" } } } },
          responses: { "201": ok({ type: "object", properties: { sha256: { type: "string" }, size: { type: "integer" } } }), "422": ok(error, "sha256 mismatch"), ...errors },
        },
      },
      "/api/v1/osimages/{name}/artifacts": {
        get: { summary: "An osimage's boot files", parameters: [name], responses: { "200": ok({ type: "object" }), ...errors } },
        post: {
          summary: "Register uploaded files as an osimage's kernel/initrd/rootfs (creates the osimage if needed), in one transaction",
          parameters: [name],
          requestBody: json({ type: "object", additionalProperties: false, properties: { kernel: { type: "object", properties: { sha256: { type: "string" }, fileName: { type: "string" } } }, initrd: { type: "object" }, rootfs: { type: "object" }, attrs } }),
          responses: { "201": ok({ type: "object" }), ...errors },
        },
      },
      "/api/v1/nodeset": {
        post: {
          summary: "Set nodes' boot state: osimage[=name], boot, shell, offline, stat (all nodes or none)",
          requestBody: json({ type: "object", required: ["range", "state"], additionalProperties: false, properties: { range: { type: "string" }, state: { type: "string" }, files } }),
          responses: { "200": ok({ type: "object", properties: { results: { type: "array", items: { type: "object", properties: { node: { type: "string" }, status: { type: "string" } } } } } }), ...errors },
        },
      },
      "/api/v1/nodes/{name}/bootlog": { get: { summary: "A node's boot timeline", parameters: [name], responses: { "200": ok({ type: "object" }), ...errors } } },
      "/api/v1/nodestat": {
        post: { summary: "Latest boot step of each node", requestBody: json({ type: "object", required: ["range"], properties: { range: { type: "string" }, files } }), responses: { "200": ok({ type: "object" }), ...errors } },
      },
      "/api/v1/discovered": { get: { summary: "Machines that asked to boot but are no node", responses: { "200": ok({ type: "object" }), ...errors } } },
      "/api/v1/power": {
        post: {
          summary: "Start rpower (verb) or rsetboot (device, persistent, uefi) on a noderange; returns the task id at once",
          requestBody: json({ type: "object", required: ["range", "command"], additionalProperties: false, properties: { range: { type: "string" }, files, command: { enum: ["rpower", "rsetboot"] }, verb: { enum: ["on", "off", "softoff", "reset", "cycle", "boot", "nmi", "stat", "state", "status"] }, device: { enum: ["net", "hd", "cd", "floppy", "setup", "def", "default", "stat"] }, persistent: { type: "boolean" }, uefi: { type: "boolean" } } }),
          responses: { "202": ok({ type: "object", properties: { task: { type: "integer" }, nodes: { type: "array", items: { type: "string" } } } }), ...errors },
        },
      },
      "/api/v1/tasks/{id}": {
        get: { summary: "A power task: state (running, done, interrupted) and each node's result so far", parameters: [{ name: "id", in: "path", required: true, schema: { type: "integer" } }], responses: { "200": ok({ type: "object" }), ...errors } },
      },
      "/api/v1/tasks/{id}/events": {
        get: {
          summary: "NDJSON: one line per node result as it arrives ({node, ok, message, at}), then {done: true, state}",
          parameters: [{ name: "id", in: "path", required: true, schema: { type: "integer" } }],
          responses: { "200": { description: "application/x-ndjson stream" }, ...errors },
        },
      },
      "/api/v1/osimages/{name}/definition": {
        put: {
          summary: "Import an osimage definition folder: osimage.toml becomes the attributes, the other files are kept (base64)",
          parameters: [name],
          requestBody: json({ type: "object", required: ["files"], additionalProperties: false, properties: { files: { type: "array", items: { type: "object", required: ["path", "content", "mode"], properties: { path: { type: "string" }, content: { type: "string", contentEncoding: "base64" }, mode: { type: "integer" } } } } } }),
          responses: { "201": ok({ type: "object" }), "200": ok({ type: "object" }), ...errors },
        },
        get: { summary: "The definition's files and parent chain", parameters: [name], responses: { "200": ok({ type: "object" }), ...errors } },
      },
      "/api/v1/osimages/{name}/builds": {
        post: { summary: "Start genimage; returns the job (202). An unchanged definition ends at once with the existing version", parameters: [name], requestBody: json({ type: "object", additionalProperties: false, properties: { force: { type: "boolean" } } }), responses: { "202": ok(job), ...errors } },
      },
      "/api/v1/osimages/{name}/customize": {
        post: { summary: "Run a command inside a version (base: id or alias, default latest) and store the result as a new version", parameters: [name], requestBody: json({ type: "object", required: ["command"], additionalProperties: false, properties: { base: { type: "string" }, command: { type: "array", items: { type: "string" } }, promote: { type: "boolean" }, interactive: { type: "boolean", description: "a shell instead of a command: attach to /api/v1/jobs/{id}/shell" } } }), responses: { "202": ok(job), ...errors } },
      },
      "/api/v1/osimages/{name}/packimage": {
        post: { summary: "Pack a version's root another way (squashfs or cpio, compression, level) as a new version; unset fields keep the version's own", parameters: [name], requestBody: json({ type: "object", additionalProperties: false, properties: { base: { type: "string" }, format: { enum: ["squashfs", "cpio"] }, compression: { enum: ["zstd", "gzip", "xz"] }, level: { type: "integer" }, promote: { type: "boolean" } } }), responses: { "202": ok(job), ...errors } },
      },
      "/api/v1/images": { get: { summary: "Image versions with aliases, validation, artifacts and the nodes booting each", parameters: [{ name: "osimage", in: "query", schema: { type: "string" } }], responses: { "200": ok({ type: "array", items: { type: "object" } }), ...errors } } },
      "/api/v1/osimages/{name}/versions/{ref}": { get: { summary: "One version (id, id prefix or alias) with its manifest and validation log", parameters: [name, ref], responses: { "200": ok({ type: "object" }), ...errors } } },
      "/api/v1/osimages/{name}/versions/{ref}/manifest.json": { get: { summary: "The version's manifest: artifacts with sha256/size/type, kernel parameters, packages, timings", parameters: [name, ref], responses: { "200": ok({ type: "object" }), ...errors } } },
      "/api/v1/osimages/{name}/aliases": { post: { summary: "Point an alias (default latest) at a version: promote", parameters: [name], requestBody: json({ type: "object", required: ["version"], properties: { alias: { type: "string" }, version: { type: "string" } } }), responses: { "200": ok({ type: "object" }), ...errors } } },
      "/api/v1/osimages/{name}/aliases/{alias}": { delete: { summary: "Remove an alias (not latest)", parameters: [name, { name: "alias", in: "path", required: true, schema: { type: "string" } }], responses: { "204": { description: "removed" }, ...errors } } },
      "/api/v1/osimages/{name}/rollback": { post: { summary: "Move an alias (default latest) back to its previous version", parameters: [name], requestBody: json({ type: "object", properties: { alias: { type: "string" } } }), responses: { "200": ok({ type: "object", properties: { from: { type: "string" }, to: { type: "string" } } }), ...errors } } },
      "/api/v1/osimages/{name}/prune": { post: { summary: "Delete versions no alias or node uses (never the newest) and their files", parameters: [name], requestBody: json({ type: "object", properties: { dryRun: { type: "boolean" } } }), responses: { "200": ok({ type: "object" }), ...errors } } },
      "/api/v1/jobs": { get: { summary: "Recent image jobs, newest first", responses: { "200": ok({ type: "array", items: job }), ...errors } } },
      "/api/v1/jobs/{id}": { get: { summary: "One job", parameters: [jobId], responses: { "200": ok(job), ...errors } } },
      "/api/v1/jobs/{id}/cancel": { post: { summary: "Cancel a queued or running job", parameters: [jobId], responses: { "200": ok(job), ...errors } } },
      "/api/v1/jobs/{id}/log": { get: { summary: "The job's log as text (offset= to continue)", parameters: [jobId], responses: { "200": { description: "text/plain" }, ...errors } } },
      "/api/v1/jobs/{id}/shell": { get: { summary: "WebSocket (Upgrade) of an interactive customize job: bytes in go to the shell's terminal, its output comes back; ?rows=&cols= size it. Closes with 'exit N'", parameters: [jobId], responses: { "101": { description: "switching to WebSocket" }, "401": ok(error, "missing or wrong token"), "409": ok(error, "not an interactive customize job that is still running") } } },
      "/api/v1/jobs/{id}/events": { get: { summary: "NDJSON: the log so far, then {type: log|state|tick} live, ending with {type: end, job}", parameters: [jobId], responses: { "200": { description: "application/x-ndjson stream" }, ...errors } } },
      "/api/v1/import": {
        post: {
          summary: "Create or change objects of several types in one transaction (mkdef -z / chdef -z)",
          requestBody: json({ type: "object", required: ["objects", "mode"], additionalProperties: false, properties: { objects: { type: "array", items: { ...named, required: ["type", "name", "attrs"], properties: { ...named.properties, type: { enum: ["node", "group", "osimage", "network"] } } } }, mode: { enum: ["create", "change"] }, force: { type: "boolean" } } }),
          responses: { "201": ok(write), "200": ok(write), ...errors },
        },
      },
    },
  };
}
