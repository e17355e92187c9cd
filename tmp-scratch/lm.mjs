import { open } from "lmdb"
import { rmSync } from "node:fs"
rmSync("/tmp/lmtest", { recursive: true, force: true })
const root = open({ path: "/tmp/lmtest", mapSize: 64 * 1024, maxDbs: 8, keyEncoding: "binary", encoding: "binary" })
const d = root.openDB("default", { keyEncoding: "binary", encoding: "binary" })
console.log(root.getStats())
try {
  for (let i = 0; i < 2000; i++) {
    await root.transaction(() => { d.put(Buffer.from("k" + i), Buffer.alloc(1000, 1)) })
  }
} catch (e) { console.log("ERR", e.code, e.message, Object.keys(e)) }
console.log(root.getStats(), d.getStats())
