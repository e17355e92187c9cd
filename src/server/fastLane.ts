/**
 * The store's fast lane: the hottest requests served beside @effect/rpc's `RpcServer`, on the same
 * connection and with the same wire messages, without its per-request machinery.
 *
 * Why: a CPU profile of a leader under 64 clients of puts spent ~17 % in `RpcServer` — per request a
 * `Runtime` built, a fiber forked and observed, a span, and the `Exit` encoded through the full
 * `Schema.Exit` interpreter — and answered every fire-and-forget `Raft` batch with an `Exit` that its
 * sender discards (the client's `discard` flag never reaches the server).
 *
 * What it does, as a wrapper of the server's `Protocol`:
 * - A `Raft` request carrying the header `x-tinykv-one-way` (what the store transport sends,
 *   `src/layers/raftLink.ts`) is decoded by its Schema and handed to the handler inline, on the
 *   connection's reading fiber — arrival order is delivery order — and is never answered. A payload the
 *   Schema refuses is logged and dropped (its sender would have discarded the refusal). A store's
 *   `RaftIntake` takes such requests earlier still, as their frames are read (`raftIntake.ts`): the lane
 *   sees only those it did not take (a store whose Raft handlers are not built, a standalone one).
 * - `RawGet` is first offered to `FastReads` (`fastReads.ts`, when the handlers' layer provides it): a read the
 *   storage can take at once is answered on the connection's fiber, without a fiber or an Effect of its own.
 * - `RawPut` is first offered to `FastWrites` (`fastWrites.ts`, likewise): a write the storage can start at once
 *   is started on the connection's fiber and answered from a callback when it applies — no fiber either.
 * - `RawGet` and `RawPut` are decoded by their Schema (its fast path), run on one fiber each, and their
 *   `Exit` is encoded as `Schema.Exit` encodes it: a success through the success Schema alone; a failure
 *   through the full `Exit` Schema (what `RpcServer` does), a defect as a `Defect` message (same).
 * - Everything else — other tags, a payload the Schema refuses, a request id that is not a string, and
 *   `RawGet`/`RawPut` when `rawCalls` is off (tracing on: `RpcServer` makes their spans) — goes to
 *   `RpcServer` unchanged, so refusals and their messages stay what docs/PROTOCOL.md says.
 *
 * A client's `Interrupt` of a fast-lane request (its deadline passed) finds no fiber in `RpcServer`, whose
 * answer is dropped; the request runs to its end (the store bounds every command) and its late answer is
 * ignored by the client, which forgot the id.
 */
import * as Headers from "@effect/platform/Headers"
import { Rpc, type RpcGroup, RpcServer } from "@effect/rpc"
import type { FromClientEncoded, FromServerEncoded } from "@effect/rpc/RpcMessage"
import { Cause, type Context, Effect, Either, Exit, FiberSet, Layer, Option, Schema } from "effect"
import { isOneWay } from "../protocol/oneWay.js"
import { HOT_RAW_CALLS, TinyKvRpcs } from "../protocol/rpcs.js"
import type { KvError } from "../protocol/errorpb.js"
import { FastReads } from "./fastReads.js"
import { FastWrites, type WriteDone } from "./fastWrites.js"
import type { ServerProtocol } from "./serverProtocol.js"
import { storeRequests } from "./metrics.js"

type Handlers = Rpc.ToHandler<RpcGroup.Rpcs<typeof TinyKvRpcs>>

interface HandlerEntry {
  readonly handler: (payload: unknown, options: { clientId: number; headers: unknown }) => unknown
  readonly context: Context.Context<never>
}

type RequestEncoded = Extract<FromClientEncoded, { _tag: "Request" }>

const encodeDefect = Schema.encodeSync(Schema.Defect)

/**
 * A fast read's answer, or undefined for the handler to give one — also when the fast read throws (an engine
 * error or a bug): the handler's path then fails the request alone, where a throw here would end the connection.
 */
const answerNow = <A>(now: (request: never) => A | undefined, request: unknown): A | undefined => {
  try {
    return now(request as never)
  } catch {
    return undefined
  }
}

/** Whether a fast write started (its callback answers it); false also when starting it throws (a bug). */
const startedNow = <A>(start: (request: A, done: WriteDone) => boolean, request: unknown, done: WriteDone): boolean => {
  try {
    return start(request as A, done)
  } catch {
    return false
  }
}

/** Wraps the `Protocol` given to `RpcServer`; needs the same handlers `RpcServer` serves. */
export const layerFastLane = <RIn>(
  inner: Layer.Layer<RpcServer.Protocol, never, RIn>,
  options: { readonly rawCalls: boolean }
): Layer.Layer<RpcServer.Protocol, never, RIn | Handlers> =>
  Layer.scoped(
    RpcServer.Protocol,
    Effect.gen(function* () {
      const protocol = yield* RpcServer.Protocol
      const sendNow = (protocol as Partial<ServerProtocol>).sendNow
      const context = yield* Effect.context<Handlers>()
      const fibers = yield* FiberSet.make()
      const fastReads = Option.getOrUndefined(yield* Effect.serviceOption(FastReads))
      const fastWrites = Option.getOrUndefined(yield* Effect.serviceOption(FastWrites))
      const entryOf = (tag: string) => {
        const rpc = TinyKvRpcs.requests.get(tag) as unknown as Rpc.AnyWithProps
        const entry = context.unsafeMap.get(rpc.key) as HandlerEntry
        return { rpc, entry }
      }

      // --- One-way Raft batches: decoded, handed over inline, never answered ---
      const raft = entryOf("Raft")
      const decodeRaft = Schema.decodeUnknownEither(raft.rpc.payloadSchema as Schema.Schema<unknown, unknown>)
      const oneWay = (clientId: number, request: RequestEncoded): Effect.Effect<void> => {
        const payload = decodeRaft(request.payload)
        if (Either.isLeft(payload)) {
          return Effect.logWarning(`dropped a one-way Raft batch from client ${clientId}: not a valid payload`)
        }
        const run = raft.entry.handler(payload.right, {
          clientId,
          headers: Headers.fromInput(request.headers)
        }) as Effect.Effect<void, unknown>
        return Effect.provide(run, raft.entry.context).pipe(
          Effect.catchAllCause((cause) =>
            Effect.logWarning("a one-way Raft batch failed").pipe(Effect.annotateLogs({ cause: Cause.pretty(cause) }))
          )
        )
      }

      // --- RawGet / RawPut: one fiber each, the answer encoded without the Exit interpreter ---
      const answered = yield* Effect.forEach(options.rawCalls ? HOT_RAW_CALLS : [], (tag) =>
        Effect.gen(function* () {
          const { rpc, entry } = entryOf(tag)
          const runFork = yield* FiberSet.runtime(fibers)().pipe(Effect.provide(entry.context))
          const decode = Schema.decodeUnknownEither(rpc.payloadSchema as Schema.Schema<unknown, unknown>)
          const encodeSuccess = Schema.encodeUnknownEither(rpc.successSchema as Schema.Schema<unknown, unknown>)
          const encodeExit = Schema.encodeUnknownEither(Rpc.exitSchema(rpc as never) as Schema.Schema<unknown, unknown>)
          const defect = (clientId: number, d: unknown) =>
            protocol.send(clientId, { _tag: "Defect", defect: encodeDefect(d) } as FromServerEncoded)
          /**
           * The answer to a call that ended in `exit`, as `RpcServer` gives it: a success encoded by the success
           * Schema alone, a failure by the full `Exit` Schema, a defect as a `Defect` message (it ends the client's
           * calls). Undefined when it is written already: a success, when the protocol can write at once
           * (`serverProtocol.ts`) — no Effect to run for it.
           */
          const answerOf = (
            clientId: number,
            requestId: string,
            exit: Exit.Exit<unknown, unknown>
          ): Effect.Effect<void> | undefined => {
            if (Exit.isSuccess(exit)) {
              const encoded = encodeSuccess(exit.value)
              if (Either.isLeft(encoded)) return defect(clientId, `cannot encode the answer to ${tag}`)
              const message = { _tag: "Exit", requestId, exit: { _tag: "Success", value: encoded.right } }
              if (sendNow === undefined) return protocol.send(clientId, message as FromServerEncoded)
              sendNow(clientId, message as FromServerEncoded)
              return undefined
            }
            const cause = exit.cause
            if (Cause.isDie(cause) && !Cause.isInterrupted(cause)) return defect(clientId, Cause.squash(cause))
            const encoded = encodeExit(exit)
            return Either.isRight(encoded)
              ? protocol.send(clientId, { _tag: "Exit", requestId, exit: encoded.right } as FromServerEncoded)
              : defect(clientId, `cannot encode the failure of ${tag}`)
          }
          const now = tag === "RawGet" ? fastReads?.RawGet : undefined
          const startNow = tag === "RawPut" ? fastWrites?.RawPut : undefined
          // the answer to a write started at once, given from its callback (`fastWrites.ts`): never throws
          const finish =
            (clientId: number, requestId: string, started: number) =>
            (error: KvError | undefined): void => {
              try {
                storeRequests.record(tag, error === undefined ? "ok" : error._tag, (performance.now() - started) / 1000)
                const pending = answerOf(clientId, requestId, error === undefined ? Exit.void : Exit.fail(error))
                if (pending !== undefined) runFork(pending)
              } catch (e) {
                runFork(defect(clientId, e))
              }
            }
          const serve = (clientId: number, request: RequestEncoded): Effect.Effect<void> | undefined => {
            const payload = decode(request.payload)
            if (Either.isLeft(payload)) return undefined
            const requestId = String(request.id)
            // started at once, answered from its callback (`fastWrites.ts`); else its handler runs it below
            if (
              startNow !== undefined &&
              startedNow(startNow, payload.right, finish(clientId, requestId, performance.now()))
            ) {
              return Effect.void
            }
            if (now !== undefined) {
              // answered at once, on the connection's fiber (`fastReads.ts`); the handler's metric counts it
              const started = performance.now()
              const answer = answerNow(now, payload.right)
              if (answer !== undefined) {
                storeRequests.record(tag, "ok", (performance.now() - started) / 1000)
                return answerOf(clientId, requestId, Exit.succeed(answer)) ?? Effect.void
              }
            }
            const handled = entry.handler(payload.right, {
              clientId,
              headers: Headers.fromInput(request.headers)
            }) as Effect.Effect<unknown, unknown>
            runFork(Effect.flatMap(Effect.exit(handled), (exit) => answerOf(clientId, requestId, exit) ?? Effect.void))
            return Effect.void
          }
          return [tag, serve] as const
        })
      )
      const served = new Map(answered)

      return RpcServer.Protocol.of({
        ...protocol,
        run: (f) =>
          protocol.run((clientId, message) => {
            if (message._tag !== "Request") return f(clientId, message)
            const idType = typeof message.id
            if (idType !== "string" && idType !== "bigint") return f(clientId, message)
            if (message.tag === "Raft" && isOneWay(message.headers)) return oneWay(clientId, message)
            return served.get(message.tag)?.(clientId, message) ?? f(clientId, message)
          })
      })
    })
  ).pipe(Layer.provide(inner))
