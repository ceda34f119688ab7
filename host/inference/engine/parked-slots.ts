/**
 * What one engine keeps for the generations it parks (parked-run.ts): where their slots are saved, what
 * a park costs there, and which of its slots a resumed generation has restored into and not started on.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SLOTS_DIR_PREFIX } from './llama-server-process.ts'
import { ParkCost } from './park-cost.ts'

export interface ParkedSlots {
  /** llama-server's `--slot-save-path`. */
  dir: string
  /** What a park costs on this engine: told the runner, measured here. */
  cost: ParkCost
  /** The engine's slots a resumed part restored its file into and has not started on: no other restore takes them. */
  claimed: Set<number>
}

/**
 * A new engine's: its folder named by the daemon's pid, so a killed daemon's are removed by the next
 * start (removeStaleKeyDirs).
 */
export async function parkedSlots(): Promise<ParkedSlots> {
  const dir = await mkdtemp(join(tmpdir(), `${SLOTS_DIR_PREFIX}${process.pid}-`))
  return { dir, cost: new ParkCost(), claimed: new Set() }
}

/** Removes the engine's saved slots, with the engine. */
export function removeParkedSlots(parked: ParkedSlots): Promise<void> {
  return rm(parked.dir, { recursive: true, force: true })
}
