/**
 * What the rest of the node asks of the direct route (./direct/direct-service.ts): the request
 * runner's way straight to a runner, and the served records and leaf checks the API shows. Outside
 * direct/ so that the API reads them without reaching into the route.
 */
import type { AnswerBatch, EntryRecord, LeafProof, ServedRecord } from '../../zomes-bindings/index.ts'
import type { ZomeCallOptions } from '../interface/conductor-port.ts'
import type { Startable } from '../interface/startable.ts'
import type { DirectInference } from './direct/direct-inference.ts'
import type { LeafCheck } from './direct/served-leaf.ts'

/** Each proof of a request checked: as its runner, and as its requester (null where not one). */
export interface ServedChecks {
  answered: LeafCheck | null
  served: LeafCheck | null
}

export interface DirectPort extends Startable {
  /** Route, then run, straight to a runner. */
  readonly inference: Pick<DirectInference, 'run'>
  /**
   * What this peer holds of a request it ran or asked for, each proof checked; null where it took no
   * part. `options.signal`: its caller went away, and its wait and reads stop.
   */
  served(
    request: string,
    options?: ZomeCallOptions,
  ): Promise<(ServedRecord & { checks: ServedChecks }) | null>
  /** Checks a leaf and its proof against the public batch it cites (read under `options.signal`). */
  checkLeaf(
    proof: LeafProof,
    options?: ZomeCallOptions,
  ): Promise<LeafCheck & { batch: EntryRecord<AnswerBatch> | null }>
}
