/**
 * `npm run bench -- --help` (`bench/main.ts`) prints the suites and exits 0 without running one, and an unknown
 * suite is refused with exit code 2 and a pointer to the help.
 */
import { spawnSync } from "node:child_process"
import { assert, it } from "vitest"

const bench = (...args: Array<string>) =>
  spawnSync("node_modules/.bin/tsx", ["bench/main.ts", ...args], { encoding: "utf8", timeout: 60_000 })

it("--help lists every suite and runs none; an unknown suite is refused", () => {
  const help = bench("--help")
  assert.strictEqual(help.status, 0, help.stderr)
  for (const suite of ["standalone", "cluster", "vs-etcd", "cpu", "scale", "raft", "schema", "bank", "tls", "disk"]) {
    assert.include(help.stdout, `  ${suite} `)
  }
  assert.notInclude(help.stdout, '"bench"', "no suite ran (a suite prints its JSON)")
  assert.strictEqual(bench("cluster", "--help").status, 0)
  const unknown = bench("nope")
  assert.strictEqual(unknown.status, 2)
  assert.include(unknown.stderr, "--help")
})
