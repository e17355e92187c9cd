/**
 * Fuzzing the command line: any argv — made of the commands' own words, flags and awkward values, or of
 * random text — is either a command line the parser accepts or a `ValidationError` the CLI prints as a usage
 * error (exit 2), never a defect. The flag values the handlers check themselves (addresses, store lists,
 * durations, byte sizes, peer addresses) go through parsers that answer a value or "invalid", never throw.
 * A sample of rejected argvs runs through the built `tinykv` to show the user sees a usage error and no stack
 * trace.
 */
import { CliConfig, CommandDescriptor, ValidationError } from "@effect/cli"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Exit, ManagedRuntime } from "effect"
import fc from "fast-check"
import { tinykv } from "../../src/bin/tinykv.js"
import { parseByteSize } from "../../src/cli/byteSize.js"
import { parseDuration } from "../../src/cli/ctlDuration.js"
import { parsePeerAddresses } from "../../src/cli/peerAddresses.js"
import { UsageError } from "../../src/cli/usage.js"
import { usageHint } from "../../src/cli/usageHint.js"
import { isValidAddress } from "../../src/rpc/address.js"
import { assertBuilt, tinykv as runTinykv } from "../support/cli.js"
import { fuzzParams, fuzzRuns, fuzzTimeout } from "./runs.js"

const words = [
  "get",
  "put",
  "delete",
  "del",
  "scan",
  "load",
  "txn",
  "ctl",
  "stores",
  "regions",
  "region",
  "operator",
  "add",
  "show",
  "split",
  "health",
  "playground",
  "server",
  "scheduler",
  "--addr",
  "--data",
  "--store",
  "--scheduler",
  "--hex",
  "--cf",
  "--limit",
  "--end",
  "--prefix",
  "--keys-only",
  "--count",
  "--stores",
  "--store-id",
  "--initial-stores",
  "--raft-tick-ms",
  "--raft-log-gc-limit",
  "--raft-log-gc-threshold",
  "--raft-log-gc-size-limit",
  "--read-path",
  "--peer-addresses",
  "--advertise",
  "--standalone",
  "--max-replicas",
  "--max-store-down-time",
  "--tls-ca",
  "-w",
  "--write-out",
  "json",
  "table",
  "--",
  "-",
  "=",
  "--help",
  "-h",
  "--version",
  "1",
  "0",
  "-1",
  "1.5",
  "1e309",
  "NaN",
  "99999999999999999999",
  "127.0.0.1:2379",
  "host:0",
  "2=127.0.0.1:1,2=x",
  "10s",
  "",
  " ",
  "--cf=lock",
  "--limit=-3"
]

/**
 * An argv: mostly the CLI's own words (so it reaches deep into the parser), some random text. No NUL bytes:
 * the OS cannot pass one in an argument (and Node's file functions die on one rather than fail).
 */
const argv = fc.array(
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...words) },
    fc.string({ maxLength: 8 }).filter((w) => !w.includes("\u0000"))
  ),
  { maxLength: 8 }
)

const runtime = ManagedRuntime.make(NodeContext.layer)

const parse = (args: ReadonlyArray<string>) =>
  runtime.runPromiseExit(CommandDescriptor.parse(tinykv.descriptor, ["tinykv", ...args], CliConfig.defaultConfig))

describe("fuzz: command-line arguments", () => {
  it(
    `any argv parses or is a ValidationError with a usage hint, never a defect (${fuzzRuns} inputs)`,
    async () => {
      let accepted = 0
      let refused = 0
      await fc.assert(
        fc.asyncProperty(argv, async (args) => {
          const exit = await parse(args)
          if (Exit.isSuccess(exit)) {
            accepted++
            return
          }
          const failure = Cause.failureOption(exit.cause)
          assert.isTrue(
            failure._tag === "Some",
            `not a plain failure for ${JSON.stringify(args)}: ${Cause.pretty(exit.cause)}`
          )
          if (failure._tag === "Some") assert.isTrue(ValidationError.isValidationError(failure.value))
          refused++
          assert.match(usageHint(tinykv.descriptor, "tinykv", args), /^usage: tinykv/)
        }),
        fuzzParams
      )
      assert.isAbove(accepted, 0, "the generator reaches valid command lines")
      assert.isAbove(refused, 0)
    },
    fuzzTimeout(240_000)
  )

  it(
    `flag values the handlers check: a value or "invalid", never an exception (${fuzzRuns} inputs)`,
    () => {
      fc.assert(
        fc.property(
          fc.oneof(fc.constantFrom(...words), fc.string({ maxLength: 24 }), fc.fullUnicodeString()),
          (text) => {
            const size = parseByteSize(text)
            assert.isTrue(
              size === undefined || (Number.isFinite(size) && size >= 0),
              `${JSON.stringify(text)} → ${size}`
            )
            parseDuration(text)
            assert.isBoolean(isValidAddress(text))
            const peers = parsePeerAddresses(text)
            if (peers instanceof UsageError) assert.match(peers.message, /--peer-addresses/)
            else for (const address of peers.values()) assert.isTrue(isValidAddress(address))
          }
        ),
        fuzzParams
      )
    },
    fuzzTimeout()
  )

  it("rejected argvs through the built tinykv: a usage error, exit 2, no stack trace", async () => {
    assertBuilt()
    const samples = fc.sample(argv, { numRuns: 400, seed: 7 })
    const rejected: Array<ReadonlyArray<string>> = []
    for (const args of samples) {
      if (rejected.length >= 12) break
      // only what the parser refuses: an accepted argv would start a store or dial a cluster
      if (Exit.isFailure(await parse(args)) && !args.includes("--")) rejected.push(args)
    }
    assert.isAtLeast(rejected.length, 12)
    for (const args of rejected) {
      const r = await runTinykv(args, { timeoutMs: 30_000 })
      const shown = `${JSON.stringify(args)}: code ${r.code}, stderr ${r.stderr}`
      assert.strictEqual(r.code, 2, shown)
      assert.match(r.stderr, /usage: tinykv/, shown)
      assert.notMatch(r.stderr, /\n\s+at |ERROR \(#|Error: \{/, shown)
    }
  }, 120_000)
})
