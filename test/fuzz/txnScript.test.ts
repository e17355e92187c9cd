/**
 * Fuzzing the `tinykv txn` script parser: any text parses to statements or fails with one `UsageError` that
 * names a statement, never another exception; and printing a parsed script back and parsing it again gives the
 * same statements (nothing is lost to quoting or escapes).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import fc from "fast-check"
import { parseScript, type Statement } from "../../src/cli/txnScript.js"
import { UsageError } from "../../src/cli/usage.js"
import { fromUtf8 } from "../../src/protocol/bytes.js"
import { fuzzParams, fuzzRuns, fuzzTimeout } from "./runs.js"

const parse = (text: string, hex = false) => Effect.runSync(Effect.either(parseScript(text, hex)))

/** Text made of the language's own pieces, so the generator reaches deep into the parser. */
const scriptText = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        "begin",
        "get",
        "put",
        "delete",
        "scan",
        "commit",
        "rollback",
        "GET",
        "#",
        '"',
        "\\",
        ";",
        "\n",
        " ",
        "\t",
        "\r"
      ),
      fc.string({ maxLength: 6 }),
      fc.fullUnicodeString({ maxLength: 3 }),
      fc.nat(200).map(String)
    ),
    { maxLength: 30 }
  )
  .map((parts) => parts.join(""))

/** Quotes a word so the parser reads it back exactly. */
const quote = (w: string) =>
  `"${w.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n").replace(/\t/g, "\\t")}"`

const render = (s: Statement): string => {
  switch (s.op) {
    case "begin":
    case "commit":
    case "rollback":
      return s.op
    case "get":
    case "delete":
      return `${s.op} ${quote(fromUtf8(s.key))}`
    case "put":
      return `put ${quote(fromUtf8(s.key))} ${quote(fromUtf8(s.value))}`
    case "scan":
      return `scan ${quote(fromUtf8(s.start))} ${s.limit}`
  }
}

describe("fuzz: txn scripts", () => {
  it(
    `any text parses, or fails with a UsageError naming where (${fuzzRuns} inputs)`,
    () => {
      let parsed = 0
      let refused = 0
      fc.assert(
        fc.property(fc.oneof(scriptText, fc.fullUnicodeString({ maxLength: 60 })), fc.boolean(), (text, hex) => {
          const result = parse(text, hex)
          if (Either.isRight(result)) {
            parsed++
            assert.isAbove(result.right.length, 0)
          } else {
            refused++
            assert.instanceOf(result.left, UsageError)
            assert.match(result.left.message, /statement \d+|no statements/)
          }
        }),
        fuzzParams
      )
      assert.isAbove(parsed, 0, "the generator reaches valid scripts")
      assert.isAbove(refused, 0)
    },
    fuzzTimeout()
  )

  it(
    `a parsed script printed back parses to the same statements (${fuzzRuns / 10} inputs)`,
    () => {
      fc.assert(
        fc.property(scriptText, (text) => {
          const first = parse(text)
          if (Either.isLeft(first)) return
          const statements = first.right.map((s) => s.statement)
          const printed = statements.map(render).join("; ")
          const second = parse(printed)
          assert.isTrue(Either.isRight(second), `${JSON.stringify(printed)} did not parse back`)
          if (Either.isRight(second)) {
            assert.deepStrictEqual(
              second.right.map((s) => s.statement),
              statements
            )
          }
        }),
        { ...fuzzParams, numRuns: Math.max(1, Math.floor(fuzzRuns / 10)) }
      )
    },
    fuzzTimeout()
  )
})
