// The test command (`npm test`): static checks, then the vitest suite. Each static check counts as
// one test in the closing line "N passed, N failed[, N skipped]", which CI reads; the exit code is
// non-zero when anything failed. Extra arguments go to vitest (e.g. `npm test -- raft`).
import { spawnSync } from "node:child_process"
import { readFileSync, rmSync } from "node:fs"

const args = process.argv.slice(2)
const filtered = args.length > 0
let passed = 0
let failed = 0
let skipped = 0

const check = (name, cmd, cmdArgs) => {
  const started = Date.now()
  const r = spawnSync(cmd, cmdArgs, { stdio: "inherit" })
  const ok = r.status === 0
  console.log(`${ok ? "✓" : "✗"} ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`)
  if (ok) passed++
  else failed++
}

// A filtered run (`npm test -- raft`) is for iterating on one area: skip the whole-tree checks.
if (!filtered) {
  check("format and lint (biome), import cycles", "npx", ["biome", "check", "."])
  check("typecheck (tsc, strict)", "npx", ["tsc", "--noEmit", "-p", "tsconfig.json"])
  check("build (dist/ and the tinykv command's bundle)", "npm", ["run", "build"])
}

const out = ".vitest-results.json"
rmSync(out, { force: true })
const r = spawnSync(
  "npx",
  ["vitest", "run", "--reporter=default", "--reporter=json", `--outputFile.json=${out}`, ...args],
  { stdio: "inherit" }
)
try {
  const j = JSON.parse(readFileSync(out, "utf8"))
  passed += j.numPassedTests
  failed += j.numFailedTests
  skipped += j.numPendingTests + j.numTodoTests
  // a file that fails to load reports no failed test: count it
  if (r.status !== 0 && j.numFailedTests === 0) failed++
} catch (e) {
  console.error("could not read vitest's results:", e.message)
  failed++
}
console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""))
process.exit(failed > 0 ? 1 : 0)
