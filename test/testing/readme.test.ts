/** The README's in-process cluster example is the one `clusterClientExample.test.ts` runs, line for line. */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, it } from "@effect/vitest"

const root = join(import.meta.dirname, "../..")

it("the README shows exactly the example that the test runs", () => {
  const test = readFileSync(join(root, "test/testing/clusterClientExample.test.ts"), "utf8")
  const begin = test.indexOf("// README:begin\n")
  const end = test.indexOf("// README:end")
  assert.isAbove(begin, 0, "markers present")
  const example = test.slice(begin + "// README:begin\n".length, end)
  assert.isAbove(example.split("\n").length, 10)
  assert.include(readFileSync(join(root, "README.md"), "utf8"), example)
})
