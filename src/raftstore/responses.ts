/** Building `RaftCmdResponse`s (TinyKV `cmd_resp.go`). */
import type { DiskFull, RegionError } from "../protocol/errorpb.js"
import type { AdminResponse, RaftCmdResponse, Response } from "../protocol/raftCmd.js"
import { StaleCommand } from "../protocol/errorpb.js"

export const errorResponse = (error: RegionError | DiskFull, currentTerm = 0): RaftCmdResponse => ({
  header: { error, currentTerm },
  responses: []
})

export const staleResponse = (currentTerm: number): RaftCmdResponse => errorResponse(new StaleCommand(), currentTerm)

export const okResponse = (responses: ReadonlyArray<Response>, currentTerm: number): RaftCmdResponse => ({
  header: { currentTerm },
  responses
})

export const adminResponse = (admin: AdminResponse, currentTerm: number): RaftCmdResponse => ({
  header: { currentTerm },
  responses: [],
  adminResponse: admin
})
