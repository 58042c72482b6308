// A Redfish BMC for tests, seeded from DMTF's public-rackmount1 mockup. In-process: startRedfishBmc(options).
// Standalone: bun test/bmc/redfish-bmc.ts --port 8000 --user admin --password password [--quirks …] [--on-power CMD]
import { parseCli, USAGE } from "./redfish/cli.ts";
import { startRedfishBmc } from "./redfish/server.ts";

export { startRedfishBmc, type RecordedRequest, type RedfishBmc, type Interceptor } from "./redfish/server.ts";
export { QUIRKS, type PowerEvent, type Quirk, type RedfishBmcOptions, type RedfishPowerState } from "./redfish/options.ts";

async function main(): Promise<void> {
  let options;
  try {
    options = parseCli(process.argv.slice(2));
  } catch (error) {
    console.error(`redfish-bmc: ${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (options === "help") {
    console.log(USAGE);
    return;
  }
  const bmc = await startRedfishBmc({
    ...options,
    onPower: (event) => console.log(`power ${event.from} -> ${event.to} (${event.resetType})`),
  });
  console.log(`redfish-bmc listening on ${bmc.url} (system ${bmc.systemPath})`);
  const stop = () => void bmc.stop().then(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

if (import.meta.main) await main();
