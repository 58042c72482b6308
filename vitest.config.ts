import { readFileSync } from "node:fs";
import { defineConfig } from "vitest/config";

export default defineConfig({
  // Bun embeds `import x from "f.sql" with { type: "text" }` as a string; vite needs telling.
  plugins: [
    {
      name: "text-imports",
      enforce: "pre",
      load(id) {
        const path = id.split("?")[0]!;
        if (path.endsWith(".sql") || path.endsWith(".eta") || path.endsWith(".ipxe")) {
          return `export default ${JSON.stringify(readFileSync(path, "utf8"))};`;
        }
        return undefined;
      },
    },
  ],
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Protocol and end-to-end tests bind real ports and namespaces; keep them in one process each.
    pool: "forks",
  },
});
