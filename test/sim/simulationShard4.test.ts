/** The deterministic simulation slice of `npm test`, shard 4 (see `simSlice.ts`). */
import { describeShard } from "./simSlice.js"

describeShard(4)
