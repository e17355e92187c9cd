/**
 * What `tinykv txn` does once src/bin has parsed its arguments: parse the whole script, then run its
 * statements against the client, printing what they read (values escaped like `scan`'s lines).
 */
import { Console, Effect, Option } from "effect"
import { describeError } from "../client/errors.js"
import type { ClientError } from "../client/TinyKvClient.js"
import { TinyKvClient } from "../client/TinyKvClient.js"
import type { Transaction } from "../client/transaction.js"
import { isRetryable } from "../client/txnErrors.js"
import { showCell, simpleLine } from "./pairFormat.js"
import { readStdin } from "./stdio.js"
import { clientLayer, type Target } from "./target.js"
import { at, parseScript, type Step } from "./txnScript.js"
import { UsageError } from "./usage.js"

const runScript = (client: TinyKvClient["Type"], steps: ReadonlyArray<Step>, hex: boolean) =>
  Effect.gen(function* () {
    // any statement with no transaction open begins one: the script's implicit `begin`
    let txn: Transaction<ClientError> | undefined
    for (const { index, source, statement } of steps) {
      const run = Effect.gen(function* () {
        const t = txn ?? (txn = yield* client.begin())
        switch (statement.op) {
          case "begin":
            return
          case "get": {
            const v = yield* t.get(statement.key)
            return yield* Console.log(Option.match(v, { onNone: () => "(not found)", onSome: (b) => showCell(b, hex) }))
          }
          case "scan":
            for (const p of yield* t.scan(statement.start, statement.limit)) {
              yield* Console.log(simpleLine(p, hex))
            }
            return
          case "put":
            return yield* t.set(statement.key, statement.value)
          case "delete":
            return yield* t.delete(statement.key)
          case "commit": {
            txn = undefined
            const ts = yield* t.commit
            return yield* Console.log(`COMMITTED ${Option.match(ts, { onNone: () => "(read-only)", onSome: String })}`)
          }
          case "rollback":
            txn = undefined
            yield* t.rollback
            return yield* Console.log("ROLLED BACK")
        }
      })
      yield* Effect.catchAll(run, (e) => {
        // A transaction failure means nothing of it is visible. Any other failure of a commit (the
        // store went away, a timeout) may have come after the commit point: say so.
        const unknown = statement.op === "commit" && !isRetryable(e)
        const why = `${describeError(e)}${unknown ? "; the commit may have landed: read the keys back before running it again" : ""}`
        // drop the open transaction's buffer (a failed commit already rolled back what it wrote)
        return Effect.zipRight(
          txn === undefined ? Effect.void : txn.rollback,
          Effect.fail(new UsageError(`${at(index, source)}: ${why}`))
        )
      })
    }
    if (txn !== undefined) {
      yield* txn.rollback
      yield* Console.log("ROLLED BACK (the script ended without commit)")
    }
  })

/** Runs SCRIPT (or stdin's, when absent or `-`) against `target`. */
export const runTxn = (args: {
  readonly script: Option.Option<string>
  readonly target: Target
  readonly hex: boolean
}) =>
  Effect.gen(function* () {
    const layer = yield* clientLayer(args.target)
    const text =
      Option.isSome(args.script) && args.script.value !== "-"
        ? args.script.value
        : new TextDecoder().decode(yield* readStdin("reading statements from stdin"))
    const steps = yield* parseScript(text, args.hex)
    yield* Effect.flatMap(TinyKvClient, (client) => runScript(client, steps, args.hex)).pipe(Effect.provide(layer))
  })
