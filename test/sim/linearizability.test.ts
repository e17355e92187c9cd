/**
 * The linearizability checker on histories whose verdict is known: hand-made classics, and random histories
 * generated from a real sequential execution (always linearizable) and then corrupted (never linearizable).
 */
import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import { checkLinearizable } from "../../src/testing/linearizability/checker.js"
import type { Operation } from "../../src/testing/linearizability/history.js"
import { HistoryRecorder } from "../../src/testing/linearizability/history.js"
import { type KvInput, type KvOutput, kvModel } from "../../src/testing/linearizability/kvModel.js"

type Op = Operation<KvInput, KvOutput>
let nextId = 0
const op = (client: number, call: number, ret: number | undefined, input: KvInput, output?: KvOutput): Op => ({
  id: nextId++,
  client,
  input,
  output,
  call,
  ret
})
const put = (key: string, value: string) => ({ kind: "put", key, value }) as const
const get = (key: string) => ({ kind: "get", key }) as const
const value = (v: string | undefined) => ({ kind: "value", value: v }) as const
const done = { kind: "done" } as const
const verdict = (h: ReadonlyArray<Op>) => checkLinearizable(kvModel, h)._tag

describe("linearizability checker", () => {
  it("accepts a read that overlaps a write returning either value", () => {
    const base = [op(0, 0, 1, put("x", "1"), done), op(1, 2, 6, put("x", "2"), done)]
    assert.strictEqual(verdict([...base, op(2, 3, 4, get("x"), value("1"))]), "Ok")
    assert.strictEqual(verdict([...base, op(2, 3, 4, get("x"), value("2"))]), "Ok")
  })

  it("rejects a stale read after a completed write", () => {
    const h = [op(0, 0, 1, put("x", "1"), done), op(0, 2, 3, put("x", "2"), done), op(1, 4, 5, get("x"), value("1"))]
    const result = checkLinearizable(kvModel, h)
    assert.strictEqual(result._tag, "Illegal")
    if (result._tag === "Illegal") assert.include(result.report, "get x → 1")
  })

  it("rejects two reads that see the value go back (new then old)", () => {
    const h = [
      op(0, 0, 1, put("x", "1"), done),
      op(1, 2, 10, put("x", "2"), done),
      op(2, 3, 4, get("x"), value("2")),
      op(3, 5, 6, get("x"), value("1"))
    ]
    assert.strictEqual(verdict(h), "Illegal")
  })

  it("an indefinite write may take effect late, or never", () => {
    const lost = [op(0, 0, undefined, put("x", "1")), op(1, 5, 6, get("x"), value(undefined))]
    assert.strictEqual(verdict(lost), "Ok", "never")
    const late = [
      op(0, 0, undefined, put("x", "1")),
      op(1, 5, 6, get("x"), value(undefined)),
      op(1, 7, 8, get("x"), value("1"))
    ]
    assert.strictEqual(verdict(late), "Ok", "after a read that missed it")
    const flicker = [...late, op(1, 9, 10, get("x"), value(undefined))]
    assert.strictEqual(verdict(flicker), "Illegal", "but once seen it cannot vanish")
  })

  it("a value nobody wrote is illegal; deletes make a key absent", () => {
    assert.strictEqual(verdict([op(0, 0, 1, get("x"), value("ghost"))]), "Illegal")
    const h = [
      op(0, 0, 1, put("x", "1"), done),
      op(0, 2, 3, { kind: "delete", key: "x" }, done),
      op(1, 4, 5, get("x"), value(undefined))
    ]
    assert.strictEqual(verdict(h), "Ok")
  })

  it("scans are held to each key's history, within the range they covered", () => {
    const writes = [
      op(0, 0, 1, put("a", "1"), done),
      op(0, 2, 3, put("b", "1"), done),
      op(0, 4, 5, put("c", "1"), done)
    ]
    const scan = (pairs: Array<[string, string]>, limit = 10) =>
      op(1, 6, 7, { kind: "scan", start: "a", end: undefined, limit }, { kind: "pairs", pairs })
    assert.strictEqual(
      verdict([
        ...writes,
        scan([
          ["a", "1"],
          ["b", "1"],
          ["c", "1"]
        ])
      ]),
      "Ok"
    )
    assert.strictEqual(
      verdict([
        ...writes,
        scan([
          ["a", "1"],
          ["c", "1"]
        ])
      ]),
      "Illegal",
      "b was skipped"
    )
    assert.strictEqual(verdict([...writes, scan([["a", "1"]], 1)]), "Ok", "a full page says nothing past its last key")
  })

  it("random histories of a real sequential execution are linearizable; corrupting one read is caught", () =>
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            client: fc.nat(3),
            kind: fc.constantFrom("put", "get", "get", "delete"),
            key: fc.constantFrom("k1", "k2"),
            value: fc.nat(5),
            before: fc.nat(4),
            after: fc.nat(4),
            lost: fc.boolean()
          }),
          { minLength: 1, maxLength: 40 }
        ),
        (steps) => {
          // the true order: step i takes effect at time 10*i; its interval is stretched around that point
          const store = new Map<string, string>()
          const h: Array<Op> = []
          let corruptible: number | undefined
          steps.forEach((s, i) => {
            const at = 10 * i + 5
            const call = at - s.before
            const ret = s.kind !== "get" && s.lost ? undefined : at + s.after
            let input: KvInput
            let output: KvOutput | undefined
            if (s.kind === "put") {
              input = put(s.key, String(s.value))
              store.set(s.key, String(s.value))
              output = ret === undefined ? undefined : done
            } else if (s.kind === "delete") {
              input = { kind: "delete", key: s.key }
              store.delete(s.key)
              output = ret === undefined ? undefined : done
            } else {
              input = get(s.key)
              output = value(store.get(s.key))
              corruptible = h.length
            }
            h.push(op(s.client, call, ret, input, output))
          })
          assert.strictEqual(verdict(h), "Ok")
          if (corruptible !== undefined) {
            const bad = [...h]
            bad[corruptible] = { ...h[corruptible]!, output: value("never-written") }
            assert.strictEqual(verdict(bad), "Illegal")
          }
        }
      ),
      { numRuns: 300 }
    ))

  it("the recorder orders events on one clock and keeps unfinished operations as indefinite", () => {
    const r = new HistoryRecorder<KvInput, KvOutput>()
    const a = r.invoke(0, put("x", "1"))
    const b = r.invoke(1, get("x"))
    r.ok(b, value(undefined))
    const c = r.invoke(1, put("x", "2"))
    r.indefinite(c)
    const d = r.invoke(2, put("y", "1"))
    r.failed(d)
    const ops = r.operations()
    assert.strictEqual(ops.length, 3, "the failed operation is dropped")
    const pa = ops.find((o) => o.id === a)!
    assert.strictEqual(pa.ret, undefined, "still pending: indefinite")
    assert.strictEqual(verdict(ops), "Ok")
  })

  it("a search that exceeds its budget is Unknown, never Ok", () => {
    // many concurrent writes and reads of one key: a hard instance for a budget of a few steps
    const h: Array<Op> = []
    for (let i = 0; i < 12; i++) h.push(op(i, 0, 100, put("x", String(i)), done))
    h.push(op(99, 101, 102, get("x"), value("0")))
    assert.strictEqual(checkLinearizable(kvModel, h, { budget: 5 })._tag, "Unknown")
    assert.strictEqual(checkLinearizable(kvModel, h)._tag, "Ok")
  })
})
