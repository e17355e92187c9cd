/**
 * `tinykv txn [SCRIPT]`: runs a small transaction script against a store, from the argument or
 * from stdin, e.g. `tinykv txn 'begin; put a 1; get b; commit'`.
 *
 * The script language is in `src/cli/txnScript.ts`. Writes are buffered by the transaction until `commit`
 * (two-phase commit).
 */
import { Args, Command } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import { describeError } from "../../client/errors.js"
import type { ClientError } from "../../client/TinyKvClient.js"
import { TinyKvClient } from "../../client/TinyKvClient.js"
import type { Transaction } from "../../client/transaction.js"
import { isRetryable } from "../../client/txnErrors.js"
import { at, parseScript, type Step } from "../../cli/txnScript.js"
import { UsageError } from "../../cli/usage.js"
import { clientLayer, hexOption, reportErrors, showBytes, storeOption } from "./common.js"

// --- running ---

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
            return yield* Console.log(
              Option.match(v, { onNone: () => "(not found)", onSome: (b) => showBytes(b, hex) })
            )
          }
          case "scan":
            for (const p of yield* t.scan(statement.start, statement.limit)) {
              yield* Console.log(`${showBytes(p.key, hex)}\t${showBytes(p.value, hex)}`)
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

const readStdin = Effect.promise(async () => {
  if (process.stdin.isTTY) process.stderr.write("reading statements from stdin; end with Ctrl-D\n")
  const chunks: Array<Buffer> = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString("utf8")
})

const description =
  "Run a transaction script (statements separated by ; or newlines) from SCRIPT, or from stdin when SCRIPT is absent. " +
  `Example: tinykv txn 'begin; put alice 90; put bob "110 USD"; get alice; commit'`

const scriptHelp = [
  "The statements:",
  "    begin | get KEY | put KEY VALUE | delete KEY | scan START [LIMIT] | commit | rollback",
  'Double quotes group a word with spaces or ; in it ("hello world"; \\" and \\\\ escape). A line starting with # is a comment.',
  "Reads see the snapshot taken at begin plus the transaction's own writes; writes are buffered until commit.",
  "Prints: get -> the value or (not found); scan -> KEY<TAB>VALUE lines (LIMIT defaults to 100);",
  "commit -> COMMITTED <commit_ts>; rollback -> ROLLED BACK.",
  "A script without begin starts with one; a script that ends without commit rolls back and prints",
  "ROLLED BACK (the script ended without commit).",
  "The whole script is checked before it runs. Any failure prints `error: statement N ...` on stderr and",
  "exits 1. After a write conflict, a locked key or an aborted transaction nothing of it was written and",
  "running the script again may succeed; if the store fails during commit, the message says the commit may have landed."
  // the help prints the first line indented and the rest as given
].join("\n  ")

export const txn = Command.make(
  "txn",
  {
    script: Args.text({ name: "SCRIPT" }).pipe(Args.withDescription(scriptHelp), Args.optional),
    store: storeOption,
    hex: hexOption
  },
  ({ script, store, hex }) =>
    reportErrors(
      Effect.gen(function* () {
        const layer = yield* clientLayer(store)
        const text = Option.isSome(script) && script.value !== "-" ? script.value : yield* readStdin
        const steps = yield* parseScript(text, hex)
        yield* Effect.flatMap(TinyKvClient, (client) => runScript(client, steps, hex)).pipe(Effect.provide(layer))
      })
    )
).pipe(Command.withDescription(description))
