/**
 * Room on demand: a load that needs more memory than models may take here (`--model-memory`) first
 * unloads the least recently used idle models, as many as it takes; a model a request runs on is never
 * evicted. Pure: the manager hands in what is loaded and unloads what the plan names.
 */

/** A loaded model as the plan sees it. */
export interface Resident {
  name: string
  /** Memory it takes here. */
  bytes: number
  /** Requests running on it now. */
  busy: number
  /** When it was last used (ms since the epoch). */
  lastUsedAt: number
}

export type RoomPlan =
  /** Unload these, in this order, and the load fits. */
  | { evict: string[] }
  /** It cannot fit even with every idle model gone: what holds the memory, and whether it is busy. */
  | { cannot: Resident[] }

/** Which models to unload so `need` bytes fit when `free` are free now. */
export function planRoom(resident: readonly Resident[], need: number, free: number): RoomPlan {
  if (need <= free) return { evict: [] }
  const idle = resident.filter((r) => r.busy === 0).sort((a, b) => a.lastUsedAt - b.lastUsedAt)
  const evict: string[] = []
  let room = free
  for (const model of idle) {
    if (room >= need) break
    evict.push(model.name)
    room += model.bytes
  }
  return room >= need ? { evict } : { cannot: [...resident] }
}

/** What holds the memory, as a refusal names it: `a (512 MiB, busy), b (1 GiB)`. */
export function holdersText(resident: readonly Resident[]): string {
  const mib = (bytes: number) => `${Math.ceil(bytes / 1024 ** 2)} MiB`
  return resident.map((r) => `${r.name} (${mib(r.bytes)}${r.busy > 0 ? ', busy' : ''})`).join(', ')
}
