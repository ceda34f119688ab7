/**
 * Which claim wins a task: best fit first (the model already loaded, then more VRAM, then more RAM,
 * then the shorter queue), ties broken by a rendezvous hash of (task, claimant) so every peer that
 * ranks the same claims gets the same order, and different tasks spread over equal claimants.
 */
import type { Claim, EntryRecord, Task } from '../../zomes-bindings/index.ts'
import { compareKeys, rendezvousKey } from '../interface/rendezvous.ts'

/** Each claimant's first claim, best first. */
export function rankClaims(
  task: EntryRecord<Task>,
  claims: readonly EntryRecord<Claim>[],
): EntryRecord<Claim>[] {
  const firstPerClaimant = new Map<string, EntryRecord<Claim>>()
  for (const claim of claims)
    if (!firstPerClaimant.has(claim.author)) firstPerClaimant.set(claim.author, claim)
  const model = task.entry.requirements.model
  const loaded = (c: EntryRecord<Claim>) =>
    model !== null && c.entry.snapshot.loaded_models.includes(model) ? 1 : 0
  const keyed = [...firstPerClaimant.values()].map((claim) => ({
    claim,
    key: rendezvousKey(task.action_hash, claim.author),
  }))
  keyed.sort((a, b) => {
    const x = a.claim.entry.snapshot
    const y = b.claim.entry.snapshot
    return (
      loaded(b.claim) - loaded(a.claim) ||
      y.vram_bytes - x.vram_bytes ||
      y.ram_bytes - x.ram_bytes ||
      x.queue_depth - y.queue_depth ||
      compareKeys(a.key, b.key)
    )
  })
  return keyed.map((k) => k.claim)
}
