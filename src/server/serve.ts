/**
 * Serving `TinyKvRpcs` over TCP with length-prefixed msgpack frames (`src/rpc/framedMsgPack.ts`).
 *
 * Bad input never takes the process down: @effect/rpc answers an unknown tag or a schema-invalid
 * payload with a defect response on that connection, and the framing closes a connection whose frame
 * header announces more than 16 MiB. What the framework does not do is tell the operator, so the serialization is wrapped to
 * log every undecodable frame, and the protocol to log every defect it sends back.
 */
import type { SocketServer } from "@effect/platform/SocketServer"
import { type Rpc, type RpcGroup, RpcSerialization, RpcServer } from "@effect/rpc"
import { Effect, Layer, Option, Runtime } from "effect"
import { TinyKvRpcs } from "../protocol/rpcs.js"
import { makeFramedMsgPack } from "../rpc/framedMsgPack.js"
import { rpcTracingEnabled } from "../rpc/tracing.js"
import type { TlsCredentials } from "../rpc/tlsCredentials.js"
import { layerFastLane } from "./fastLane.js"
import { layerRaftIntake, RaftIntake, takeOneWayRaft } from "./raftIntake.js"
import { makeServerProtocol } from "./serverProtocol.js"
import { layerTcpSocketServer } from "./tcpSocketServer.js"
import { layerTlsSocketServer } from "./tlsSocketServer.js"

/**
 * The framed msgpack serialization, logging every frame it refuses (the connection is told as before), and
 * handing one-way Raft batches to the `RaftIntake` when the server has one (`raftIntake.ts`).
 */
export const layerLoggedMsgPack: Layer.Layer<RpcSerialization.RpcSerialization> = Layer.effect(
  RpcSerialization.RpcSerialization,
  Effect.gen(function* () {
    const runtime = yield* Effect.runtime<never>()
    const warn = (message: string) => Runtime.runFork(runtime)(Effect.logWarning(message))
    const slot = Option.getOrUndefined(yield* Effect.serviceOption(RaftIntake))
    return makeFramedMsgPack({
      onBadFrame: (reason) => warn(`bad frame from a client: ${reason}`),
      ...(slot === undefined ? {} : { intake: takeOneWayRaft(slot, warn) })
    })
  })
)

/**
 * Logs every rejected request (defects and `InvalidArgument`) with the message the client sees.
 * NB: scoped — the protocol forks the loop that serves the connections into this layer's scope, so a stopping
 * server ends its connections before its listener closes (with `Layer.effect` the loop was left to the
 * program's outermost scope, and the listener's close waited for the peers to hang up: 19 s for a store).
 */
const layerLoggedProtocol = Layer.scoped(
  RpcServer.Protocol,
  Effect.gen(function* () {
    const inner = yield* makeServerProtocol
    return RpcServer.Protocol.of({
      ...inner,
      send: (clientId, response, transferables) => {
        const rejected =
          response._tag === "Defect" ||
          (response._tag === "Exit" && response.exit._tag === "Failure" && isRejection(response.exit.cause))
        return rejected
          ? Effect.zipRight(
              Effect.logWarning(`rejected a request from client ${clientId}`).pipe(
                Effect.annotateLogs("response", describe(response))
              ),
              inner.send(clientId, response, transferables)
            )
          : inner.send(clientId, response, transferables)
      }
    })
  })
)

/** True when an encoded cause holds a defect or an `InvalidArgument` failure. */
const isRejection = (cause: unknown): boolean => {
  if (typeof cause !== "object" || cause === null) return false
  const c = cause as { _tag?: string; error?: { _tag?: string }; left?: unknown; right?: unknown }
  if (c._tag === "Die") return true
  if (c._tag === "Fail") return c.error?._tag === "InvalidArgument"
  return isRejection(c.left) || isRejection(c.right)
}

const describe = (response: unknown): string => {
  try {
    return JSON.stringify(response, (_k, v) => (typeof v === "bigint" ? v.toString() : v)).slice(0, 500)
  } catch {
    return String(response)
  }
}

export interface ListenOptions {
  readonly host: string
  readonly port: number
}

/**
 * The socket server alone, so callers (tests, the CLI) can read the bound address: plain TCP, or TLS
 * with mutual authentication when `tls` is given (`tlsSocketServer.ts`).
 */
export const layerSocketServer = (options: ListenOptions, tls?: TlsCredentials): Layer.Layer<SocketServer, unknown> =>
  tls === undefined
    ? layerTcpSocketServer({ host: options.host, port: options.port })
    : layerTlsSocketServer(options, tls)

/** Serves `TinyKvRpcs` with the given handlers on an existing `SocketServer`. */
export const layerRpcServer = <E, R>(handlers: Layer.Layer<Rpc.ToHandler<RpcGroup.Rpcs<typeof TinyKvRpcs>>, E, R>) =>
  Layer.unwrapEffect(
    Effect.map(rpcTracingEnabled, (tracing) =>
      RpcServer.layer(TinyKvRpcs, { disableTracing: !tracing, concurrency: "unbounded" }).pipe(
        // with tracing on, client calls go through RpcServer, which makes their spans
        Layer.provide(layerFastLane(layerLoggedProtocol, { rawCalls: !tracing }))
      )
    )
  ).pipe(Layer.provide(handlers), Layer.provide(layerLoggedMsgPack), Layer.provide(layerRaftIntake))
