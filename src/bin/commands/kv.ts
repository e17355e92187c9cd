/** `tinykv get | put | delete (del) | scan`: the raw KV API from the shell (work in src/cli/kvCommands.ts). */
import { Args, Command, Options } from "@effect/cli"
import { cfOption, formatOption, hexOption, lazy, reportErrors, storeOption } from "./common.js"

const kv = () => import("../../cli/kvCommands.js")

const data = { store: storeOption, cf: cfOption, hex: hexOption, format: formatOption }

const listing = {
  keysOnly: Options.boolean("keys-only").pipe(Options.withDescription("print the keys only")),
  count: Options.boolean("count").pipe(Options.withDescription("print how many keys there are, not the pairs"))
}

const get = Command.make(
  "get",
  {
    key: Args.text({ name: "KEY" }),
    prefix: Options.boolean("prefix").pipe(
      Options.withDescription("KEY is a prefix: print every pair whose key starts with it")
    ),
    limit: Options.integer("limit").pipe(
      Options.optional,
      Options.withDescription("with --prefix: at most this many pairs (default: all)")
    ),
    ...listing,
    ...data
  },
  ({ store, ...args }) => reportErrors(lazy(kv, (m) => m.get({ target: store, ...args })))
).pipe(
  Command.withDescription(
    "Print the value of KEY (exits 1 when the key does not exist); with --prefix, every pair under the prefix."
  )
)

const put = Command.make(
  "put",
  {
    key: Args.text({ name: "KEY" }),
    value: Args.text({ name: "VALUE" }).pipe(
      Args.optional,
      Args.withDescription("the value; read from stdin when absent (any bytes: tabs, newlines)")
    ),
    ...data
  },
  ({ store, ...args }) => reportErrors(lazy(kv, (m) => m.put({ target: store, ...args })))
).pipe(Command.withDescription("Set KEY to VALUE, or to what stdin holds (durable when it returns)."))

const deleteConfig = {
  key: Args.text({ name: "KEY" }),
  prefix: Options.boolean("prefix").pipe(Options.withDescription("delete every key that starts with KEY")),
  end: Options.text("end").pipe(
    Options.optional,
    Options.withDescription("delete the range KEY <= key < END (exclusive end)")
  ),
  ...data
}

const deleteDescription =
  "Delete KEY (succeeds when it does not exist); with --prefix or --end, every key of the range (prints how many)."

const deleteNamed = (name: string, description: string) =>
  Command.make(name, deleteConfig, ({ store, ...args }) =>
    reportErrors(lazy(kv, (m) => m.del({ target: store, ...args })))
  ).pipe(Command.withDescription(description))

const scan = Command.make(
  "scan",
  {
    start: Args.text({ name: "START" }).pipe(Args.withDefault("")),
    end: Options.text("end").pipe(Options.optional, Options.withDescription("exclusive end key")),
    limit: Options.integer("limit").pipe(
      Options.optional,
      Options.withDescription("at most this many pairs (default 100; --count: all); stderr says when more exist")
    ),
    ...listing,
    ...data
  },
  ({ store, ...args }) => reportErrors(lazy(kv, (m) => m.scan({ target: store, ...args })))
).pipe(
  Command.withDescription(
    "Print KEY<TAB>VALUE lines for START <= key < END in key order (tab, newline and backslash escaped as \\t, \\n, \\\\)."
  )
)

export const kvCommands = [
  get,
  put,
  deleteNamed("delete", deleteDescription),
  deleteNamed("del", "Same as delete."),
  scan
] as const
