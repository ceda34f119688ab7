/**
 * Whether what grows with time is held by its neighbourhood only (issue 57) or, as before, by every
 * peer: only once the mesh has more members than `record.holders` and every member says it speaks
 * `record/1.0.0`. A member on an older release expects full replication and gets it from the new peers
 * until it upgrades (the oldest member switches a new form on, README "Upgrading a mesh"). Pure: the
 * read path and the replicator decide by it.
 */
import type { MeshVersions } from '../../../interface/release.ts'

/** The protocol version that reads a mesh where records live with their neighbourhood. */
export const SHARDED_RECORD_VERSION = 1

export interface ShardingInput {
  /** How many members this peer counts. */
  members: number
  /** The network file's `record.holders`. */
  holders: number
  versions: Pick<MeshVersions, 'everySpeaks'>
}

export function recordsSharded(input: ShardingInput): boolean {
  return input.members > input.holders && input.versions.everySpeaks('record', SHARDED_RECORD_VERSION)
}
