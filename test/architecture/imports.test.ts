/**
 * The folders of `src/` form layers, and imports go one way only: down. A folder may import its own
 * files and the folders of lower layers, never a folder of its own layer or above — type-only imports
 * included (biome's `noImportCycles` catches cycles between files; this catches the folder-level
 * tangles that precede them). The layers, bottom up:
 *
 *   protocol                                  wire types, schemas, byte helpers
 *   raft, services, raftlog                   pure Raft; service tags (interfaces only); raft log segment files
 *   rpc, transaction, scheduler, raftstore    connections; MVCC; scheduler logic; multi-raft store
 *   server                                    the RPC handlers
 *   layers                                    live implementations of the services
 *   client                                    the client (standalone and cluster)
 *   testing, process, cli, index.ts           the test cluster; local clusters of processes; the command
 *                                             line's languages; the package's entry point
 *   status                                    the status listener: metrics, health, the dashboard
 *   nemesis                                   faults on a local cluster of processes, checked histories
 *   bin                                       the command line
 *
 * `src/raft` is pure: at runtime it imports nothing outside itself, not even a package.
 */
import { assert, describe, it } from "@effect/vitest"
import { fileURLToPath } from "node:url"
import { type SourceImport, sourceImports } from "./sourceImports.js"

const LAYERS: ReadonlyArray<ReadonlyArray<string>> = [
  ["protocol"],
  ["raft", "services", "raftlog"],
  ["rpc", "transaction", "scheduler", "raftstore"],
  ["server"],
  ["layers"],
  ["client"],
  ["testing", "process", "cli", "index.ts"],
  ["status", "nemesis"],
  ["bin"]
]

const root = fileURLToPath(new URL("../..", import.meta.url))
const imports = sourceImports(root, "src")

/** `src/client/cluster/x.ts` → `client`; a file directly in `src/` is its own unit (`index.ts`). */
const unitOf = (path: string): string => path.split("/")[1]!

const layerOf = (unit: string): number => LAYERS.findIndex((layer) => layer.includes(unit))

const show = (i: SourceImport) =>
  `${i.from}:${i.line} imports ${i.typeOnly ? "(type-only) " : ""}"${i.specifier}" (${i.target ?? "a package"})`

const internal = imports.filter((i) => i.target?.startsWith("src/") === true)

describe("import layering of src/", () => {
  it("sees the tree (the parser found the imports)", () => {
    assert.isAbove(imports.length, 200)
    assert.isTrue(internal.some((i) => i.from === "src/client/TinyKvClient.ts" && i.target === "src/client/types.ts"))
  })

  it("places every folder of src/ in a layer", () => {
    const units = [...new Set(imports.map((i) => unitOf(i.from)))]
    const unplaced = units.filter((u) => layerOf(u) < 0)
    assert.deepStrictEqual(unplaced, [], `folders of src/ missing from LAYERS in ${import.meta.filename}: add them`)
  })

  it("imports only downwards: a folder never imports one of its own layer or above", () => {
    const offending = internal.flatMap((i) => {
      const from = unitOf(i.from)
      const to = unitOf(i.target!)
      if (from === to || layerOf(from) < 0 || layerOf(to) < layerOf(from)) return []
      const allowed = LAYERS.slice(0, layerOf(from)).flat().join(", ")
      return [`${show(i)}: ${from} may import only ${allowed}`]
    })
    assert.deepStrictEqual(offending, [], `imports against the layering:\n${offending.join("\n")}`)
  })

  it("keeps src/raft pure: at runtime it imports nothing outside itself", () => {
    const offending = imports
      .filter((i) => unitOf(i.from) === "raft" && !i.typeOnly)
      .filter((i) => i.target === undefined || unitOf(i.target) !== "raft")
      .map(show)
    assert.deepStrictEqual(offending, [], `runtime imports out of src/raft:\n${offending.join("\n")}`)
  })

  it("keeps the client and the layers apart one way: layers never import the client", () => {
    const offending = internal.filter((i) => unitOf(i.from) === "layers" && unitOf(i.target!) === "client").map(show)
    assert.deepStrictEqual(offending, [], `the layers import the client:\n${offending.join("\n")}`)
  })
})
