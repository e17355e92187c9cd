import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { layerLmdb } from "../../src/layers/storageLmdb.js"
import { storageSuite } from "./conformance.js"

storageSuite({
  name: "lmdb",
  fresh: () => {
    const dir = mkdtempSync(join(tmpdir(), "tinykv-lmdb-"))
    return { layer: layerLmdb(dir), reopen: () => layerLmdb(dir) }
  }
})
