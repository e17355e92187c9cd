/**
 * Lean calls: the hottest client requests (`RawGet`, `RawPut`) sent beside @effect/rpc's `RpcClient`, on the
 * same connection and with the same wire messages, without its per-call machinery — the client-side twin of
 * the store's fast lane (`src/server/fastLane.ts`).
 *
 * Why: per call, `RpcClient` builds a `Runtime`, forks a fiber to send, registers an observer, and decodes the
 * answer through the full `Schema.Exit` interpreter on an Effect of its own; the caller then raced the call
 * against a timer (two more fibers). A CPU profile of the benchmark's client under 64 clients of puts spent
 * more time in the fiber runtime and the garbage collector than in anything of its own
 * (docs/PERFORMANCE.md, "The client's CPU").
 *
 * A lean call encodes its payload through the Schema (its fast path), and waits on one `Effect.async` that the
 * answer, the deadline's timer or the connection's failure completes; its request, with an id of its own —
 * negative, so never one of `RpcClient`'s (which count up from 0) — is written on the caller's fiber
 * (`ClientProtocol.writeNow`, `clientProtocol.ts`): at once while the socket is open, when it first opens if
 * the caller still waits then, and not at all when the connection is down (the call ends with the connection's
 * failure, marked as unsent). The answer is decoded as `RpcClient` decodes it: a success through the success
 * Schema alone, anything else through the full `Exit` Schema. The connection hands every message to `receive`
 * first; what is not a lean call's goes on to `RpcClient` unchanged. A protocol error or a server's defect ends
 * every pending lean call as it ends `RpcClient`'s calls.
 */
import { Rpc, type RpcGroup } from "@effect/rpc"
import type { RpcClientError } from "@effect/rpc/RpcClientError"
import type { FromServerEncoded, RequestEncoded } from "@effect/rpc/RpcMessage"
import { Effect, Either, Exit, FiberId, Schema, type Scope } from "effect"
import type { ClientProtocol } from "./clientProtocol.js"
import { markUnsent } from "./errors.js"

export interface LeanCalls {
  /** The request tags sent lean. */
  readonly tags: ReadonlySet<string>
  /**
   * Sends request `tag` (one of `tags`) and waits for its answer: its success, its typed failure, a
   * connection failure, or `onTimeout()` once `timeoutMs` passed without an answer.
   */
  readonly call: <A, E, T>(
    tag: string,
    payload: unknown,
    timeoutMs: number,
    onTimeout: () => T
  ) => Effect.Effect<A, E | T | RpcClientError>
  /** Sees each message from the server before `RpcClient`; true when it was a lean call's (consumed). */
  readonly receive: (message: FromServerEncoded) => boolean
}

interface Shape {
  readonly encodePayload: (payload: unknown) => Either.Either<unknown, unknown>
  readonly decodeSuccess: (value: unknown) => Either.Either<unknown, unknown>
  readonly decodeExit: (exit: unknown) => Either.Either<Exit.Exit<unknown, unknown>, unknown>
}

interface Pending {
  readonly shape: Shape
  /** Completes the waiting caller (set when the call is queued, so before any answer can come). */
  settle: ((exit: Exit.Exit<unknown, unknown>) => void) | undefined
}

const decodeDefect = Schema.decodeUnknownSync(Schema.Defect)
const noHeaders: ReadonlyArray<[string, string]> = []

type EncodedExit = { readonly _tag: "Success"; readonly value: unknown } | { readonly _tag: "Failure" }

/** The lean calls of `tags` over `connection`; those still pending when the scope closes are interrupted. */
export const makeLeanCalls = <Rpcs extends Rpc.Any>(
  group: RpcGroup.RpcGroup<Rpcs>,
  tags: ReadonlyArray<string>,
  connection: Pick<ClientProtocol, "writeNow">
): Effect.Effect<LeanCalls, never, Scope.Scope> =>
  Effect.gen(function* () {
    const shapes = new Map<string, Shape>()
    for (const tag of tags) {
      const rpc = group.requests.get(tag) as unknown as Rpc.AnyWithProps | undefined
      if (rpc === undefined) continue
      shapes.set(tag, {
        encodePayload: Schema.encodeUnknownEither(rpc.payloadSchema as Schema.Schema<unknown, unknown>),
        decodeSuccess: Schema.decodeUnknownEither(rpc.successSchema as Schema.Schema<unknown, unknown>),
        decodeExit: Schema.decodeUnknownEither(
          Rpc.exitSchema(rpc as never) as unknown as Schema.Schema<Exit.Exit<unknown, unknown>, unknown>
        )
      })
    }
    const pending = new Map<string, Pending>()
    let lastId = 0

    const answer = (p: Pending, exit: Exit.Exit<unknown, unknown>) => p.settle?.(exit)
    const endAll = (exit: Exit.Exit<never, unknown>) => {
      const all = [...pending.values()]
      pending.clear()
      for (const p of all) answer(p, exit)
    }
    // as RpcClient: an answer its own Schema cannot decode is a defect of the call
    const decoded = (shape: Shape, exit: EncodedExit): Exit.Exit<unknown, unknown> => {
      if (exit._tag === "Success") {
        const value = shape.decodeSuccess(exit.value)
        return Either.isRight(value) ? Exit.succeed(value.right) : Exit.die(value.left)
      }
      const full = shape.decodeExit(exit)
      return Either.isRight(full) ? full.right : Exit.die(full.left)
    }

    const call = <A, E, T>(tag: string, payload: unknown, timeoutMs: number, onTimeout: () => T) =>
      Effect.suspend(() => {
        const shape = shapes.get(tag)
        if (shape === undefined) return Effect.dieMessage(`${tag} is not sent lean`)
        const encoded = shape.encodePayload(payload)
        if (Either.isLeft(encoded)) return Effect.die(encoded.left)
        const id = String(--lastId)
        const request = { _tag: "Request", id, tag, payload: encoded.right, headers: noHeaders } as RequestEncoded
        const p: Pending = { shape, settle: undefined }
        return Effect.async<unknown, unknown>((resume) => {
          pending.set(id, p)
          const timer = setTimeout(() => {
            pending.delete(id)
            p.settle = undefined
            resume(Effect.fail(onTimeout()))
          }, timeoutMs)
          p.settle = (exit) => {
            clearTimeout(timer)
            resume(exit)
          }
          connection.writeNow(
            request,
            (error) => {
              if (pending.get(id) !== p) return
              pending.delete(id)
              answer(p, Exit.fail(markUnsent(error)))
            },
            () => pending.get(id) === p
          )
          return Effect.sync(() => {
            clearTimeout(timer)
            pending.delete(id)
          })
        })
      }) as Effect.Effect<A, E | T | RpcClientError>

    // as RpcClient on shutdown: what is still pending is interrupted
    yield* Effect.addFinalizer(() => Effect.sync(() => endAll(Exit.interrupt(FiberId.none))))

    const receive = (message: FromServerEncoded): boolean => {
      switch (message._tag) {
        case "Exit": {
          const id = message.requestId
          if (typeof id !== "string" || !id.startsWith("-")) return false
          const p = pending.get(id)
          // a late answer (its caller gave up) is dropped: RpcClient never knew its id
          if (p === undefined) return true
          pending.delete(id)
          answer(p, decoded(p.shape, message.exit as EncodedExit))
          return true
        }
        case "ClientProtocolError":
          endAll(Exit.fail(message.error))
          return false
        case "Defect":
          endAll(Exit.die(decodeDefect(message.defect)))
          return false
        default:
          return false
      }
    }

    return { tags: new Set(shapes.keys()), call, receive } satisfies LeanCalls
  })
