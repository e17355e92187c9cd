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
import { type OutputFormat, pairJson, showCell, simpleLine, toBase64, utf8OrNull } from "./pairFormat.js"
import { readStdin } from "./stdio.js"
import { clientLayer, type Target } from "./target.js"
import { at, parseScript, type Step } from "./txnScript.js"
import { UsageError } from "./usage.js"

/**
 * Where a statement's result goes: a line on stdout (`simple`; `table` prints the same lines, a script's
 * results being of different shapes), or one record of the JSON array printed when the script ends
 * (`json`, lossless: base64 beside every key and value).
 */
interface Output {
  readonly json: boolean
  readonly emit: (line: string, record: object) => Effect.Effect<void>
  readonly flush: Effect.Effect<void>
}

const makeOutput = (format: OutputFormat): Output => {
  if (format !== "json") return { json: false, emit: (line) => Console.log(line), flush: Effect.void }
  const records: Array<object> = []
  return {
    json: true,
    emit: (_, record) => Effect.sync(() => void records.push(record)),
    flush: Effect.suspend(() => Console.log(JSON.stringify(records)))
  }
}

const runScript = (client: TinyKvClient["Type"], steps: ReadonlyArray<Step>, hex: boolean, out: Output) =>
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
            const key = { key: utf8OrNull(statement.key), keyBase64: toBase64(statement.key) }
            return yield* out.emit(
              Option.match(v, { onNone: () => "(not found)", onSome: (b) => showCell(b, hex) }),
              Option.match(v, {
                onNone: () => ({ op: "get", ...key, found: false }),
                onSome: (b) => ({ op: "get", ...key, found: true, value: utf8OrNull(b), valueBase64: toBase64(b) })
              })
            )
          }
          case "scan": {
            const pairs = yield* t.scan(statement.start, statement.limit)
            if (out.json) return yield* out.emit("", { op: "scan", pairs: pairs.map(pairJson) })
            for (const p of pairs) yield* out.emit(simpleLine(p, hex), {})
            return
          }
          case "put":
            return yield* t.set(statement.key, statement.value)
          case "delete":
            return yield* t.delete(statement.key)
          case "commit": {
            txn = undefined
            const ts = yield* t.commit
            return yield* out.emit(`COMMITTED ${Option.match(ts, { onNone: () => "(read-only)", onSome: String })}`, {
              op: "commit",
              commitTs: Option.match(ts, { onNone: () => null, onSome: String })
            })
          }
          case "rollback":
            txn = undefined
            yield* t.rollback
            return yield* out.emit("ROLLED BACK", { op: "rollback" })
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
      yield* out.emit("ROLLED BACK (the script ended without commit)", { op: "rollback", implicit: true })
    }
  })

/** Runs SCRIPT (or stdin's, when absent or `-`) against `target`. */
export const runTxn = (args: {
  readonly script: Option.Option<string>
  readonly target: Target
  readonly hex: boolean
  readonly format?: OutputFormat
}) =>
  Effect.gen(function* () {
    const layer = yield* clientLayer(args.target)
    const text =
      Option.isSome(args.script) && args.script.value !== "-"
        ? args.script.value
        : new TextDecoder().decode(yield* readStdin("reading statements from stdin"))
    const steps = yield* parseScript(text, args.hex)
    const out = makeOutput(args.format ?? "simple")
    yield* Effect.flatMap(TinyKvClient, (client) => runScript(client, steps, args.hex, out)).pipe(
      // what ran before a failure is printed too
      Effect.ensuring(out.flush),
      Effect.provide(layer)
    )
  })
