/**
 * Randomized safety suite, shard 1 of 2 (see `safety/suite.ts` for RAFT_SCHEDULES / RAFT_STEPS / RAFT_SEED).
 */
import { defineSafetySuite } from "./safety/suite.js"

defineSafetySuite(0)
