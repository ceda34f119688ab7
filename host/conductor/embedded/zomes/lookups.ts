/**
 * Which coordinator functions only read: they run beside the cell's queued calls (Cell.read), so a
 * look-up (through the entry-key index, ../entry-keys.ts) neither waits for batch signing or task
 * writes nor stalls them.
 */
import type { DnaName, ZomeFnName } from '../../../../zomes-bindings/index.ts'

/** Per DNA, the functions that write nothing. */
export const readOnlyZomeFns: { [D in DnaName]?: ReadonlySet<ZomeFnName<D>> } = {
  resource_mesh: new Set(['get_payload', 'get_served', 'get_answer_batch', 'list_own_windows']),
}
