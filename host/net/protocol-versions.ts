/**
 * Protocol ids carry versions (`direct-infer/2.0.0`): when a peer serves none this peer speaks, the
 * refusal says which versions each side has and the peer's release (from its hello), so the person
 * reading it knows who should upgrade.
 */
import type { Libp2p, PeerId } from '@libp2p/interface'
import { agentOfPeerB64 } from '../identity/peer-agent.ts'
import type { MeshVersions } from '../interface/release.ts'
import { missingVersionText } from '../interface/version-gap.ts'
import { RequestRefusedError } from './errors.ts'
import type { NetworkIdentity } from './network-identity.ts'

/** The peer serves the protocol, but none of the versions this peer speaks (or not at all). */
export class ProtocolVersionError extends RequestRefusedError {
  static override readonly name = 'ProtocolVersionError'
  constructor(peer: PeerId, reason: string) {
    super(peer, reason)
    this.name = 'ProtocolVersionError'
    // The reason already names the peer and what to do.
    this.message = reason
  }
}

/** `direct-infer/2.0.0` → its name and major version; null for an id that carries none. */
export function protocolVersion(suffix: string): { name: string; major: number } | null {
  const match = /^(.+)\/(\d+)(?:\.\d+){0,2}$/.exec(suffix)
  return match ? { name: match[1]!, major: Number(match[2]) } : null
}

/** The major versions of `name` among a peer's full protocol ids on this network, newest first. */
export function servedVersions(identity: NetworkIdentity, name: string, ids: readonly string[]): number[] {
  const prefix = identity.protocol('')
  const majors = ids
    .filter((id) => id.startsWith(prefix))
    .map((id) => protocolVersion(id.slice(prefix.length)))
    .filter((v) => v !== null && v.name === name)
    .map((v) => v!.major)
  return [...new Set(majors)].sort((a, b) => b - a)
}

/**
 * The refusal for a stream to `peer` that its protocol negotiation turned down on every one of
 * `suffixes` (one protocol, newest version first): what it serves, as its identify said, and its release.
 */
export async function versionRefusal(
  libp2p: Pick<Libp2p, 'peerStore'>,
  identity: NetworkIdentity,
  versions: Pick<MeshVersions, 'of'> | undefined,
  peer: PeerId,
  suffixes: readonly string[],
): Promise<RequestRefusedError> {
  const wanted = suffixes.map(protocolVersion)
  const name = wanted[0]?.name
  if (name === undefined || wanted.some((v) => v?.name !== name)) {
    return new RequestRefusedError(peer, `does not serve ${suffixes.join(' or ')}`)
  }
  const ids = await libp2p.peerStore.get(peer).then(
    (known) => known.protocols,
    () => [],
  )
  const agent = agentOfPeerB64(peer)
  const release = agent === null ? undefined : versions?.of(agent)?.release
  const need = wanted.map((v) => v!.major)
  const text = missingVersionText(
    agent ?? peer.toString(),
    name,
    need,
    servedVersions(identity, name, ids),
    release,
  )
  return new ProtocolVersionError(peer, text)
}
