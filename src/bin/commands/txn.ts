/**
 * `tinykv txn [SCRIPT]`: runs a small transaction script against a store, from the argument or
 * from stdin, e.g. `tinykv txn 'begin; put a 1; get b; commit'`.
 *
 * The whole script is parsed and checked before anything runs, so a typo never leaves half a
 * script executed. Writes are buffered by the transaction until `commit` (two-phase commit).
 */
import { Args, Command } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import { describeError } from "../../client/errors.js"
import type { ClientError } from "../../client/TinyKvClient.js"
import { TinyKvClient } from "../../client/TinyKvClient.js"
import type { Transaction } from "../../client/transaction.js"
import { isRetryable } from "../../client/txnErrors.js"
import { clientLayer, hexOption, parseBytes, reportErrors, showBytes, storeOption, UsageError } from "./common.js"

type Statement =
  | { readonly op: "begin" | "commit" | "rollback" }
  | { readonly op: "get" | "delete"; readonly key: Uint8Array }
  | { readonly op: "put"; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly op: "scan"; readonly start: Uint8Array; readonly limit: number }

interface Step {
  /** 1-based position in the script, and the statement as written, for messages. */
  readonly index: number
  readonly source: string
  readonly statement: Statement
}

const DEFAULT_SCAN_LIMIT = 100

// --- parsing ---

/** How messages name a statement: its position and its text. */
const at = (index: number, source: string) => `statement ${index} \`${source}\``

const clip = (text: string) => (text.length > 40 ? `${text.slice(0, 40)}…` : text)

interface RawStatement {
  readonly source: string
  readonly words: ReadonlyArray<string>
}

/**
 * Splits a script into statements (`;` or newline) of words (whitespace). Double quotes group a
 * word that has spaces, `;` or newlines in it, with `\"`, `\\`, `\n` and `\t` escapes inside; a
 * statement starting with `#` is a comment to the end of the line.
 */
const splitStatements = (script: string): Effect.Effect<ReadonlyArray<RawStatement>, UsageError> => {
  const out: Array<RawStatement> = []
  let words: Array<string> = []
  let word: string | undefined
  let start = 0
  const endWord = () => {
    if (word !== undefined) words.push(word)
    word = undefined
  }
  const endStatement = (end: number) => {
    endWord()
    if (words.length > 0) out.push({ source: script.slice(start, end).trim(), words })
    words = []
    start = end + 1
  }
  for (let i = 0; i < script.length; i++) {
    const c = script[i]!
    if (c === ";" || c === "\n") endStatement(i)
    else if (c === " " || c === "\t" || c === "\r") endWord()
    else if (c === "#" && word === undefined && words.length === 0) {
      while (i + 1 < script.length && script[i + 1] !== "\n") i++
      start = i + 1
    } else if (c === '"') {
      const open = i
      word ??= ""
      for (i++; ; i++) {
        const q = script[i]
        if (q === undefined) {
          const source = script.slice(start).trim()
          return Effect.fail(
            new UsageError(`${at(out.length + 1, source)}: unterminated quote at ${clip(script.slice(open))}`)
          )
        }
        if (q === '"') break
        if (q === "\\") {
          const e = script[++i]
          word += e === "n" ? "\n" : e === "t" ? "\t" : (e ?? "")
        } else word += q
      }
    } else word = (word ?? "") + c
  }
  endStatement(script.length)
  return Effect.succeed(out)
}

const parseStatement = (raw: RawStatement, index: number, hex: boolean): Effect.Effect<Step, UsageError> =>
  Effect.gen(function* () {
    const where = at(index, raw.source)
    const fail = (why: string) => Effect.fail(new UsageError(`${where}: ${why}`))
    const [word = "", ...args] = raw.words
    const op = word.toLowerCase()
    const bytes = (text: string, what: string) =>
      Effect.mapError(parseBytes(text, hex, what), (e) => new UsageError(`${where}: ${e.message}`))
    const key = (text: string) => (text.length === 0 ? fail("KEY must not be empty") : bytes(text, "key"))
    /** The arguments, checked against `usage` (its words after the first; `[X]` is optional). */
    const argsOf = (usage: string) => {
      const wanted = usage.split(" ").slice(1)
      const min = wanted.filter((w) => !w.startsWith("[")).length
      return args.length < min || args.length > wanted.length
        ? fail(`expected \`${usage}\``)
        : Effect.succeed(args as ReadonlyArray<string | undefined>)
    }
    const step = (statement: Statement): Step => ({ index, source: raw.source, statement })
    switch (op) {
      case "begin":
      case "commit":
      case "rollback":
        yield* argsOf(op)
        return step({ op })
      case "get":
      case "delete": {
        const [k = ""] = yield* argsOf(`${op} KEY`)
        return step({ op, key: yield* key(k) })
      }
      case "put": {
        const [k = "", v = ""] = yield* argsOf("put KEY VALUE")
        return step({ op, key: yield* key(k), value: yield* bytes(v, "value") })
      }
      case "scan": {
        const [start = "", limitText] = yield* argsOf("scan START [LIMIT]")
        const limit = limitText === undefined ? DEFAULT_SCAN_LIMIT : Number(limitText)
        if (limitText !== undefined && (!/^\d+$/.test(limitText) || !Number.isSafeInteger(limit))) {
          return yield* fail(`LIMIT "${limitText}" is not a non-negative integer`)
        }
        return step({ op, start: yield* bytes(start, "start key"), limit })
      }
      default:
        return yield* fail(`unknown statement "${word}"; expected begin, get, put, delete, scan, commit or rollback`)
    }
  })

/** Parses the whole script and checks its shape: `begin` only where no transaction is open. */
const parseScript = (script: string, hex: boolean): Effect.Effect<ReadonlyArray<Step>, UsageError> =>
  Effect.gen(function* () {
    const raws = yield* splitStatements(script)
    if (raws.length === 0) return yield* Effect.fail(new UsageError("the script has no statements"))
    const steps = yield* Effect.forEach(raws, (raw, i) => parseStatement(raw, i + 1, hex))
    let open = false
    for (const s of steps) {
      if (s.statement.op === "begin" && open) {
        return yield* Effect.fail(
          new UsageError(`${at(s.index, s.source)}: a transaction is already open; commit or roll it back first`)
        )
      }
      open = s.statement.op !== "commit" && s.statement.op !== "rollback"
    }
    return steps
  })

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
