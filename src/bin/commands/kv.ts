/** `tinykv get | put | delete | scan`: the raw KV API from the shell. */
import { Args, Command, Options } from "@effect/cli"
import { Console, Effect } from "effect"
import { TinyKvClient } from "../../client/TinyKvClient.js"
import {
  cfOption,
  clientLayer,
  hexOption,
  parseBytes,
  reportErrors,
  showBytes,
  storeOption,
  type Target,
  UsageError
} from "./common.js"

const withClient = <A, E>(target: Target, f: (client: TinyKvClient["Type"]) => Effect.Effect<A, E>) =>
  reportErrors(
    Effect.gen(function* () {
      const layer = yield* clientLayer(target)
      return yield* Effect.flatMap(TinyKvClient, f).pipe(Effect.provide(layer))
    })
  )

const get = Command.make(
  "get",
  { key: Args.text({ name: "KEY" }), store: storeOption, cf: cfOption, hex: hexOption },
  ({ key, store, cf, hex }) =>
    withClient(store, (client) =>
      Effect.gen(function* () {
        const value = yield* client.rawGet(yield* parseBytes(key, hex, "key"), { cf })
        if (value === undefined) return yield* Effect.fail(new UsageError(`key "${key}" not found`))
        yield* Console.log(showBytes(value, hex))
      })
    )
).pipe(Command.withDescription("Print the value of KEY; exits 1 when the key does not exist."))

const put = Command.make(
  "put",
  {
    key: Args.text({ name: "KEY" }),
    value: Args.text({ name: "VALUE" }),
    store: storeOption,
    cf: cfOption,
    hex: hexOption
  },
  ({ key, value, store, cf, hex }) =>
    withClient(store, (client) =>
      Effect.gen(function* () {
        yield* client.rawPut(yield* parseBytes(key, hex, "key"), yield* parseBytes(value, hex, "value"), { cf })
        yield* Console.log("OK")
      })
    )
).pipe(Command.withDescription("Set KEY to VALUE (durable when it returns)."))

const del = Command.make(
  "delete",
  { key: Args.text({ name: "KEY" }), store: storeOption, cf: cfOption, hex: hexOption },
  ({ key, store, cf, hex }) =>
    withClient(store, (client) =>
      Effect.gen(function* () {
        yield* client.rawDelete(yield* parseBytes(key, hex, "key"), { cf })
        yield* Console.log("OK")
      })
    )
).pipe(Command.withDescription("Delete KEY (succeeds when it does not exist)."))

const scan = Command.make(
  "scan",
  {
    start: Args.text({ name: "START" }).pipe(Args.withDefault("")),
    end: Options.text("end").pipe(Options.optional, Options.withDescription("exclusive end key")),
    limit: Options.integer("limit").pipe(Options.withDefault(100), Options.withDescription("at most this many pairs")),
    store: storeOption,
    cf: cfOption,
    hex: hexOption
  },
  ({ start, end, limit, store, cf, hex }) =>
    withClient(store, (client) =>
      Effect.gen(function* () {
        if (limit < 0) return yield* Effect.fail(new UsageError("--limit must not be negative"))
        const from = yield* parseBytes(start, hex, "start key")
        const to = end._tag === "Some" ? yield* parseBytes(end.value, hex, "end key") : undefined
        const pairs = yield* client.rawScan(from, { cf, limit, end: to })
        for (const p of pairs) yield* Console.log(`${showBytes(p.key, hex)}\t${showBytes(p.value, hex)}`)
      })
    )
).pipe(Command.withDescription("Print KEY<TAB>VALUE lines for START <= key < END, in key order."))

export const kvCommands = [get, put, del, scan] as const
