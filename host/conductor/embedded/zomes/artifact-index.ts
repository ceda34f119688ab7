/**
 * artifact_index coordinator, mirroring the Rust one: artifacts linked from an all-artifacts anchor and
 * from their CID's anchor, pin commitments from the artifact and from the holder; a released pin is a
 * deleted PinCommitment. The rules decide who may write (a PinCommitment's holder is its author and
 * only it deletes it); readers check what each link leads to, since anyone may write a link.
 */
import type { Artifact, EntryRecord, PinCommitment } from '../../../../zomes-bindings/index.ts'
import { decodeHashB64, encodeHashB64 } from '../../../identity/hash.ts'
import type { Hdk } from '../hdk.ts'
import type { CoordinatorZome } from './coordinator-zome.ts'
import { linkedRecords, toRecordRef } from './entry-record.ts'

const ALL_ARTIFACTS = 'all_artifacts'
const cidAnchor = (hdk: Hdk, cid: string) => hdk.anchor(`cid:${cid}`)

export const artifactIndexZome: CoordinatorZome<'artifact_index'> = {
  register_artifact(hdk, artifact) {
    const hash = hdk.create_entry('Artifact', artifact)
    hdk.create_link(hdk.anchor(ALL_ARTIFACTS), hash, 'AllArtifacts')
    hdk.create_link(cidAnchor(hdk, artifact.cid), hash, 'CidToArtifact')
    return toRecordRef(hdk.get(hash)!)
  },

  /** The earliest registration of a CID. */
  get_artifact(hdk, cid) {
    return artifactsOf(hdk, cid)[0] ?? null
  },

  list_artifacts(hdk) {
    return linkedRecords<Artifact>(hdk, hdk.anchor(ALL_ARTIFACTS), 'AllArtifacts', 'Artifact')
  },

  commit_pin(hdk, pin) {
    const hash = hdk.create_entry('PinCommitment', pin)
    hdk.create_link(decodeHashB64(pin.artifact, 'action'), hash, 'ArtifactToPins')
    hdk.create_link(decodeHashB64(pin.holder, 'agent'), hash, 'AgentToPins')
    return toRecordRef(hdk.get(hash)!)
  },

  release_pin(hdk, pin) {
    return encodeHashB64(hdk.delete_entry(decodeHashB64(pin, 'action')))
  },

  list_pin_holders(hdk, cid) {
    const pins = artifactsOf(hdk, cid).flatMap((artifact) =>
      linkedRecords<PinCommitment>(
        hdk,
        decodeHashB64(artifact.action_hash, 'action'),
        'ArtifactToPins',
        'PinCommitment',
      ).filter((p) => p.entry.cid === cid && p.entry.holder === p.author),
    )
    return pins.sort((a, b) => a.timestamp - b.timestamp)
  },
}

function artifactsOf(hdk: Hdk, cid: string): EntryRecord<Artifact>[] {
  return linkedRecords<Artifact>(hdk, cidAnchor(hdk, cid), 'CidToArtifact', 'Artifact').filter(
    (a) => a.entry.cid === cid,
  )
}
