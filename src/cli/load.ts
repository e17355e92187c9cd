/**
 * `tinykv load FILE`: writes every pair of a JSON-lines or CSV file (`loadFormat.ts`), in batches
 * (`rawBatchPut`: one atomic write per region per batch, a few batches in flight), with a progress bar
 * on a terminal's stderr and a final line with the rate. FILE `-` is stdin.
 */
import { createReadStream, statSync } from "node:fs"
import { Chunk, Clock, Effect, Stream } from "effect"
import { type LoadFormat, type LoadPair, readPairs } from "./loadFormat.js"
import type { OutputFormat } from "./pairFormat.js"
import { progressBar } from "./progress.js"
import { printLine } from "./stdio.js"
import { type Target, withClient } from "./target.js"
import { UsageError } from "./usage.js"

export interface LoadArgs {
  readonly target: Target
  readonly file: string
  readonly inputFormat: LoadFormat
  readonly cf: string
  readonly batch: number
  readonly format: OutputFormat
}

export interface LoadSummary {
  readonly pairs: number
  /** Keys and values. */
  readonly bytes: number
  readonly seconds: number
  readonly pairsPerSecond: number
  readonly mibPerSecond: number
}

/** How many batches are written at once. */
const IN_FLIGHT = 4

const MiB = 1024 * 1024

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits

export const summaryLine = (s: LoadSummary): string =>
  `loaded ${s.pairs} pairs (${round(s.bytes / MiB, 2)} MiB) in ${round(s.seconds, 2)} s: ` +
  `${Math.round(s.pairsPerSecond)} pairs/s, ${round(s.mibPerSecond, 2)} MiB/s`

/** Opens FILE (or stdin for `-`); its size for the bar when it has one. */
const open = (file: string) =>
  Effect.try({
    try: () =>
      file === "-"
        ? { input: process.stdin as NodeJS.ReadableStream, size: undefined }
        : { input: createReadStream(file) as NodeJS.ReadableStream, size: statSync(file).size },
    catch: (e) => new UsageError(`cannot read ${file}: ${(e as Error).message}`)
  })

export const load = (args: LoadArgs) =>
  withClient(args.target, (client) =>
    Effect.gen(function* () {
      if (!Number.isInteger(args.batch) || args.batch < 1) {
        return yield* Effect.fail(new UsageError("--batch must be a positive integer"))
      }
      const { input, size } = yield* open(args.file)
      // the bar follows the bytes read from the file: the one total known before the end
      let read = 0
      input.on("data", (chunk: Buffer | string) => {
        read += chunk.length
      })
      let pairs = 0
      let bytes = 0
      const started = yield* Clock.currentTimeMillis
      const bar = yield* Effect.acquireRelease(
        Effect.sync(() =>
          size === undefined
            ? undefined
            : progressBar({
                total: size,
                format: "load {bar} {percentage}% | {pairs} pairs | {rate} pairs/s | ETA {eta_formatted}",
                payload: { pairs: 0, rate: 0 }
              })
        ),
        (b) => Effect.sync(() => b?.stop())
      )
      yield* Stream.fromAsyncIterable(readPairs(input, args.inputFormat), (e) =>
        e instanceof UsageError ? e : new UsageError(`${args.file}: ${(e as Error).message}`)
      ).pipe(
        Stream.grouped(args.batch),
        Stream.mapEffect(
          (chunk) => {
            const batch: ReadonlyArray<LoadPair> = Chunk.toReadonlyArray(chunk)
            return Effect.flatMap(client.rawBatchPut(batch, { cf: args.cf }), () =>
              Effect.flatMap(Clock.currentTimeMillis, (now) =>
                Effect.sync(() => {
                  pairs += batch.length
                  for (const p of batch) bytes += p.key.length + p.value.length
                  const seconds = Math.max((now - started) / 1000, 0.001)
                  bar?.update(read, { pairs, rate: Math.round(pairs / seconds) })
                })
              )
            )
          },
          { concurrency: IN_FLIGHT }
        ),
        Stream.runDrain
      )
      const seconds = Math.max(((yield* Clock.currentTimeMillis) - started) / 1000, 0.001)
      const summary: LoadSummary = {
        pairs,
        bytes,
        seconds: round(seconds, 3),
        pairsPerSecond: round(pairs / seconds, 1),
        mibPerSecond: round(bytes / MiB / seconds, 3)
      }
      bar?.stop()
      yield* printLine(args.format === "json" ? JSON.stringify(summary) : summaryLine(summary))
    }).pipe(Effect.scoped)
  )
