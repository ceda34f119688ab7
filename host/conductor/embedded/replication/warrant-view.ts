/** A warrant as the node's API shows it: hashes in HoloHashB64, its DNA by name. */
import type { DnaName } from '../../../../zomes-bindings/index.ts'
import { encodeHashB64 } from '../../../identity/hash.ts'
import type { WarrantView } from '../../../interface/network-port.ts'
import type { Warrant } from '../../../storage/chain-store.ts'

/** `dnaNames`: DNA hash (HoloHashB64) to name, for the DNAs this conductor runs. */
export function warrantView(warrant: Warrant, dnaNames: ReadonlyMap<string, DnaName>): WarrantView {
  return {
    agent: encodeHashB64(warrant.author),
    dna: dnaNames.get(encodeHashB64(warrant.dnaHash)) ?? null,
    rule: warrant.rule,
    reason: warrant.reason,
    action_hash: warrant.actionHash && encodeHashB64(warrant.actionHash),
    reported_by: encodeHashB64(warrant.reportedBy),
    timestamp: warrant.timestamp,
  }
}
