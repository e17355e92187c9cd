/**
 * Why `tinykv get` starts fast: the command tree in dist/bundle/main.js loads only the chunks it
 * imports statically, and neither the store, the scheduler nor the client is among them (each loads
 * when its command runs). Startup time itself is measured, not tested: a loaded machine has no floor.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { assertBuilt } from "../support/cli.js"

const dir = join(import.meta.dirname, "../../dist/bundle")

/** main.js and every chunk it imports statically, transitively. */
const staticGraph = (): ReadonlyArray<string> => {
  const seen = new Set<string>()
  const visit = (file: string) => {
    if (seen.has(file)) return
    seen.add(file)
    const code = readFileSync(join(dir, file), "utf8")
    // static imports only: `import(...)` is how commands load their work
    for (const m of code.matchAll(/(?:^|[;\n}])\s*import\s*(?:[^"'()]*?\s*from\s*)?"\.\/([^"]+\.js)"/g)) visit(m[1]!)
  }
  visit("main.js")
  return [...seen]
}

describe("the tinykv bundle", () => {
  it("loads the command tree without the store, the scheduler or the client", () => {
    assertBuilt()
    const files = staticGraph()
    const code = files.map((f) => readFileSync(join(dir, f), "utf8")).join("\n")
    // service tags are strings a bundler keeps as they are
    for (const tag of ["tinykv/TinyKvClient", "tinykv/Router", "tinykv/Storage", "tinykv/SchedulerClient"]) {
      assert.notInclude(code, tag, `${tag} is loaded at startup`)
    }
    // …yet they are in the bundle, in the chunks the commands load
    const everything = readdirSync(dir)
      .filter((f) => f.endsWith(".js"))
      .map((f) => readFileSync(join(dir, f), "utf8"))
      .join("\n")
    for (const tag of ["tinykv/TinyKvClient", "tinykv/Router"]) assert.include(everything, tag)
    assert.include(
      readFileSync(join(dir, "main.js"), "utf8"),
      "import(",
      "commands load their work with dynamic imports"
    )
    // the whole static graph is a fraction of the bundle
    assert.isBelow(code.length, 700_000, `${files.length} files, ${code.length} bytes load at startup`)
  })
})
