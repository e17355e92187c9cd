/**
 * Whether RPC clients and servers make spans and carry the trace context: only when the fiber's tracer
 * is on. The processes switch it off unless an OpenTelemetry endpoint is configured (`src/status/tracing.ts`),
 * so an untraced cluster pays for no span per request and sends no trace ids.
 */
import { type Effect, FiberRef } from "effect"

export const rpcTracingEnabled: Effect.Effect<boolean> = FiberRef.get(FiberRef.currentTracerEnabled)
