/** The `tinykv` command line: parses arguments and composes layers; the work happens in src/. */
import { Command } from "@effect/cli"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Effect } from "effect"
import { ctl } from "./commands/ctl.js"
import { kvCommands } from "./commands/kv.js"
import { playground } from "./commands/playground.js"
import { scheduler } from "./commands/scheduler.js"
import { server } from "./commands/server.js"
import { txn } from "./commands/txn.js"

const tinykv = Command.make("tinykv").pipe(
  Command.withDescription("TinyKV-TS: a distributed, transactional key-value store."),
  Command.withSubcommands([playground, scheduler, server, ...kvCommands, txn, ctl])
)

const cli = Command.run(tinykv, { name: "tinykv", version: "0.1.0" })

cli(process.argv).pipe(Effect.scoped, Effect.provide(NodeContext.layer), NodeRuntime.runMain)
