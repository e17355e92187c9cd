/** The `tinykv` command line: parses arguments and composes layers; the work happens in src/. */
import { Command, ValidationError } from "@effect/cli"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Console, Effect } from "effect"
import { withPlainConsole } from "../cli/plainText.js"
import { usageHint } from "../cli/usageHint.js"
import { tinykv } from "./tinykv.js"

const cli = Command.run(tinykv, { name: "tinykv", version: "0.1.0" })

// `tinykv scan | head` closes the pipe early: that is the reader's choice, not an error
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0)
  throw e
})

cli(process.argv).pipe(
  // @effect/cli has printed why the arguments are wrong; add the usage, exit 2
  Effect.catchIf(ValidationError.isValidationError, () =>
    Console.error(usageHint(tinykv.descriptor, "tinykv", process.argv.slice(2))).pipe(
      Effect.zipRight(Effect.sync(() => (process.exitCode = 2)))
    )
  ),
  withPlainConsole,
  Effect.scoped,
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain
)
