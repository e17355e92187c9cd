/**
 * Randomized safety suite, shard 2 of 2 (a second file so vitest runs both shards in parallel workers).
 */
import { defineSafetySuite } from "./safety/suite.js"

defineSafetySuite(1)
