/**
 * The language of `tinykv txn` scripts: statements separated by `;` or newlines (`begin`, `get KEY`,
 * `put KEY VALUE`, `delete KEY`, `scan START [LIMIT]`, `commit`, `rollback`), words separated by whitespace,
 * double quotes for words with spaces or separators in them. The whole script is parsed and checked before
 * anything runs, so a typo never leaves half a script executed; every mistake is a `UsageError` naming the
 * statement.
 */
import { Effect } from "effect"
import { parseBytes, UsageError } from "./usage.js"

export type Statement =
  | { readonly op: "begin" | "commit" | "rollback" }
  | { readonly op: "get" | "delete"; readonly key: Uint8Array }
  | { readonly op: "put"; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly op: "scan"; readonly start: Uint8Array; readonly limit: number }

export interface Step {
  /** 1-based position in the script, and the statement as written, for messages. */
  readonly index: number
  readonly source: string
  readonly statement: Statement
}

export const DEFAULT_SCAN_LIMIT = 100

/** How messages name a statement: its position and its text. */
export const at = (index: number, source: string) => `statement ${index} \`${source}\``

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
export const parseScript = (script: string, hex: boolean): Effect.Effect<ReadonlyArray<Step>, UsageError> =>
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
