// provd's services over one database, wired once for the server and for tests.
import type { Db } from "../db/open.ts";
import { BlobStore } from "./blob-store.ts";
import { BootDirectory } from "./boot-directory.ts";
import { BootLog } from "./boot-log.ts";
import { BootPlanner } from "./boot-plan.ts";
import { Inventory } from "./inventory.ts";
import { ObjectStore } from "./objects.ts";
import { OsimageArtifacts } from "./osimage-artifacts.ts";
import type { SecretBox } from "./secret-box.ts";
import { PowerService, type PowerServiceOptions } from "../power/service.ts";
import { TaskStore } from "../power/task-store.ts";
import { ImageService } from "../image/service.ts";
import { BootImages } from "../image/boot-image.ts";
import { join } from "node:path";

export type Services = ReturnType<typeof createServices>;

export function createServices(
  db: Db,
  options: {
    secrets: SecretBox;
    blobDir: string;
    onError?: (error: unknown) => void;
    power?: PowerServiceOptions;
    /** Where image builds keep jobs, scratch trees and published versions (default: inside blobDir, for tests). */
    dataDir?: string;
    imageCacheDir?: string;
  },
) {
  const store = new ObjectStore(db, options.secrets);
  const inventory = new Inventory(store);
  const directory = new BootDirectory(inventory);
  const blobs = new BlobStore(options.blobDir);
  const artifacts = new OsimageArtifacts(db, store, blobs);
  const bootLog = new BootLog(db, options.onError);
  const dataDir = options.dataDir ?? join(options.blobDir, "image-data");
  const images = new ImageService(db, inventory, blobs, artifacts, { dataDir, cacheDir: options.imageCacheDir ?? join(dataDir, "cache"), onError: options.onError });
  const bootImages = new BootImages(artifacts, images, blobs);
  const planner = new BootPlanner(inventory, directory, bootImages);
  const tasks = new TaskStore(db);
  const power = new PowerService(inventory, tasks, options.power ?? { protocols: {}, concurrency: 256, timeoutMs: 10_000 });
  return { db, store, inventory, directory, blobs, artifacts, bootLog, planner, tasks, power, images, bootImages };
}
