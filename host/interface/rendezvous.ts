/**
 * The mesh's one rendezvous-hash convention, for every choice that peers must make alike without
 * talking: which claimant wins a tie, which peers replicate an artifact, which hold a memory shard.
 * An agent's key for a subject is sha256 over the UTF-8 of `subject`, a newline, and the agent's key
 * (both as written, HoloHashB64 or CID); the lowest key comes first. Pure JS, so any layer may use it.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { utf8ToBytes } from '@noble/hashes/utils.js'

export function rendezvousKey(subject: string, agent: string): Uint8Array {
  return sha256(utf8ToBytes(`${subject}\n${agent}`))
}

/** Byte order of two keys (negative: `a` comes first). */
export function compareKeys(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length && i < b.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return a.length - b.length
}

/** `agents` in rendezvous order for `subject` (every peer with the same list gets the same order). */
export function rendezvousOrder(subject: string, agents: readonly string[]): string[] {
  return agents
    .map((agent) => ({ agent, key: rendezvousKey(subject, agent) }))
    .sort((a, b) => compareKeys(a.key, b.key))
    .map(({ agent }) => agent)
}

/** Where `me` stands among `agents` for `subject` (0 = first), without sorting them all. */
export function rendezvousRank(subject: string, me: string, agents: readonly string[]): number {
  const mine = rendezvousKey(subject, me)
  return agents.filter((a) => a !== me && compareKeys(rendezvousKey(subject, a), mine) < 0).length
}
