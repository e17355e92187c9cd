/** Building `RaftCmdResponse`s (TinyKV `cmd_resp.go`). */
import type { DiskFull, RegionError } from "../protocol/errorpb.js"
import type { AdminResponse, RaftCmdResponse, Response } from "../protocol/raftCmd.js"
import { StaleCommand } from "../protocol/errorpb.js"

export const errorResponse = (error: RegionError | DiskFull, currentTerm = 0): RaftCmdResponse => ({
  header: { error, currentTerm },
  responses: []
})

/**
 * A proposal refused for its term. `outcomeUnknown`: its entry may still be the command (see `StaleCommand`);
 * leave it out when the command is known never to apply.
 */
export const staleResponse = (currentTerm: number, outcomeUnknown = false): RaftCmdResponse =>
  errorResponse(new StaleCommand(outcomeUnknown ? { outcomeUnknown } : {}), currentTerm)

export const okResponse = (responses: ReadonlyArray<Response>, currentTerm: number): RaftCmdResponse => ({
  header: { currentTerm },
  responses
})

export const adminResponse = (admin: AdminResponse, currentTerm: number): RaftCmdResponse => ({
  header: { currentTerm },
  responses: [],
  adminResponse: admin
})
