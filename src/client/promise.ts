/**
 * A Promise facade over `TinyKvClient` for code that does not use Effect:
 *
 *   const kv = await connect({ store: "127.0.0.1:20160" })
 *   await kv.put("hello", "world")
 *   const v = await kv.getString("hello")   // "world"
 *   await kv.close()
 *
 * Errors reject with the same tagged error objects the Effect API fails with (`e._tag`).
 */
import { type Duration, Effect, ManagedRuntime } from "effect"
import { type Bytesish, type KvPair, type ScanOptions, TinyKvClient } from "./TinyKvClient.js"
import { fromUtf8 } from "../protocol/bytes.js"

export interface ConnectOptions {
  /** `HOST:PORT` of a standalone store. */
  readonly store: string
  /** Deadline of each call (default 10 s). */
  readonly timeout?: Duration.DurationInput
}

export interface KvConnection {
  readonly get: (key: Bytesish, options?: { cf?: string }) => Promise<Uint8Array | undefined>
  readonly getString: (key: Bytesish, options?: { cf?: string }) => Promise<string | undefined>
  readonly put: (key: Bytesish, value: Bytesish, options?: { cf?: string }) => Promise<void>
  readonly delete: (key: Bytesish, options?: { cf?: string }) => Promise<void>
  readonly scan: (start: Bytesish, options?: ScanOptions) => Promise<ReadonlyArray<KvPair>>
  readonly close: () => Promise<void>
}

/** Fails (rejects) when the store cannot be reached. */
export const connect = async (options: ConnectOptions): Promise<KvConnection> => {
  const runtime = ManagedRuntime.make(TinyKvClient.layer(options))
  const client = await runtime.runPromise(TinyKvClient).catch(async (e) => {
    await runtime.dispose()
    throw e
  })
  const run = <A>(effect: Effect.Effect<A, unknown>) =>
    runtime.runPromiseExit(effect).then((exit) => {
      if (exit._tag === "Success") return exit.value
      const failure = exit.cause._tag === "Fail" ? exit.cause.error : undefined
      throw failure ?? new Error(`tinykv: ${String(exit.cause)}`)
    })
  return {
    get: (key, o) => run(client.rawGet(key, o)),
    getString: (key, o) => run(Effect.map(client.rawGet(key, o), (v) => (v === undefined ? undefined : fromUtf8(v)))),
    put: (key, value, o) => run(client.rawPut(key, value, o)),
    delete: (key, o) => run(client.rawDelete(key, o)),
    scan: (start, o) => run(client.rawScan(start, o)),
    close: () => runtime.dispose()
  }
}
