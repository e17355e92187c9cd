/**
 * `tinykv playground`: a local cluster on loopback — a scheduler and N stores as child processes —
 * that waits until a write succeeds, prints the addresses, and stops every child on Ctrl-C/SIGTERM.
 * Each child writes its log to `<data>/logs/<name>.log`.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { createWriteStream, mkdirSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Command, Options } from "@effect/cli"
import { Console, Effect } from "effect"
import { waitUntilWritable } from "../../client/clusterProbe.js"
import { reportErrors, UsageError } from "./common.js"

const bin = fileURLToPath(new URL("../../../bin/tinykv.mjs", import.meta.url))

/** Starts a child `tinykv` process; it is stopped (SIGTERM, then SIGKILL after 5 s) when the scope closes. */
const child = (name: string, args: ReadonlyArray<string>, logDir: string) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const log = createWriteStream(join(logDir, `${name}.log`), { flags: "a" })
      const p = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "pipe", "pipe"] })
      p.stdout!.pipe(log)
      p.stderr!.pipe(log)
      p.on("exit", (code, signal) => {
        if (!stopping) process.stderr.write(`playground: ${name} exited (${signal ?? `code ${code}`})\n`)
      })
      return p
    }),
    (p) => stopChild(p)
  )

let stopping = false

const stopChild = (p: ChildProcess) =>
  Effect.async<void>((resume) => {
    stopping = true
    if (p.exitCode !== null || p.signalCode !== null) return resume(Effect.void)
    const killer = setTimeout(() => p.kill("SIGKILL"), 5_000)
    p.once("exit", () => {
      clearTimeout(killer)
      resume(Effect.void)
    })
    p.kill("SIGTERM")
  })

export const playground = Command.make(
  "playground",
  {
    stores: Options.integer("stores").pipe(Options.withDefault(3), Options.withDescription("number of stores")),
    data: Options.text("data").pipe(
      Options.withDefault("./data"),
      Options.withDescription("directory for every process's data and logs")
    ),
    host: Options.text("host").pipe(Options.withDefault("127.0.0.1"), Options.withDescription("loopback address")),
    schedulerPort: Options.integer("scheduler-port").pipe(Options.withDefault(2379)),
    basePort: Options.integer("base-port").pipe(
      Options.withDefault(20160),
      Options.withDescription("store i listens on base-port + i - 1")
    )
  },
  ({ stores, data, host, schedulerPort, basePort }) =>
    reportErrors(
      Effect.gen(function* () {
        if (stores < 1 || stores > 9) return yield* Effect.fail(new UsageError("--stores must be between 1 and 9"))
        const logs = join(data, "logs")
        mkdirSync(logs, { recursive: true })
        const scheduler = `${host}:${schedulerPort}`
        yield* child("scheduler", ["scheduler", "--addr", scheduler, "--data", join(data, "scheduler")], logs)
        const ids = Array.from({ length: stores }, (_, i) => i + 1)
        const addresses = ids.map((i) => `${host}:${basePort + i - 1}`)
        for (const i of ids) {
          yield* child(
            `store-${i}`,
            [
              "server",
              "--addr",
              addresses[i - 1]!,
              "--scheduler",
              scheduler,
              "--data",
              join(data, `store-${i}`),
              "--store-id",
              String(i),
              "--initial-stores",
              ids.join(",")
            ],
            logs
          )
        }
        yield* Console.log(`starting a scheduler and ${stores} store(s)…`)
        yield* waitUntilWritable(scheduler).pipe(
          Effect.timeoutFail({
            duration: "60 seconds",
            onTimeout: () => new UsageError(`the cluster did not accept a write within 60 s; see the logs in ${logs}`)
          })
        )
        yield* Console.log(
          [
            "tinykv playground is up:",
            `  scheduler  ${scheduler}`,
            ...addresses.map((a, i) => `  store ${i + 1}    ${a}`),
            `  data/logs  ${data}`,
            "try, in another shell:",
            "  npx tinykv put hello world",
            "  npx tinykv get hello",
            "stop with Ctrl-C"
          ].join("\n")
        )
        return yield* Effect.never
      }).pipe(Effect.scoped)
    )
).pipe(Command.withDescription("Run a local cluster: a scheduler and N stores on loopback, until Ctrl-C."))
