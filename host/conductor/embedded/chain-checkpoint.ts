/**
 * Start-up verifies a chain from its last verified head, not from genesis: verifying every action
 * (hash, signature, links, entries) took 15 s at 21,000 actions. The checkpoint kept beside the
 * chain holds that head and a SHA-256 digest of the history up to it (every column of each action's
 * rows, its entry's and link's included, read in one query: no decoding, no signature checks), under
 * an HMAC keyed from the agent's key. At open the digest is recomputed: a changed column before the
 * checkpoint (the indexed ones the action hash does not cover too: seq, type, timestamp, entry hash,
 * target, link row), or a checkpoint that is not the owner's, sends the open back to whole-chain
 * verification, which says what is wrong (and refuses the chain) or finds it sound.
 *
 * The digest runs on through every commit of this agent, so the checkpoint always sits at the head.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import type { AgentKey } from '../../identity/keystore.ts'
import type { ChainCheckpoint, ChainStore } from '../../storage/chain-store.ts'
import { ChainDigest } from './chain-digest.ts'
import type { VerifiedHead } from './chain-verify.ts'

const KEY_CONTEXT = 'ripple/chain-checkpoint/v1'

/** The checkpoint MAC key: derived from the agent's secret, so only the chain owner can write one. */
export function checkpointKey(key: AgentKey): Uint8Array {
  return new Uint8Array(createHash('sha256').update(KEY_CONTEXT).update(key.exportSeed()).digest())
}

export function signCheckpoint(
  macKey: Uint8Array,
  dnaHash: Uint8Array,
  author: Uint8Array,
  head: VerifiedHead,
  digest: Uint8Array,
): ChainCheckpoint {
  const checkpoint = { ...head, digest }
  return { ...checkpoint, mac: mac(macKey, dnaHash, author, checkpoint) }
}

/**
 * The store's checkpoint for the chain if it is the owner's and the history before it is unchanged
 * (`digest` then holds that history, ready to run on); null otherwise (`digest` untouched).
 */
export function trustedCheckpoint(
  store: ChainStore,
  macKey: Uint8Array,
  dnaHash: Uint8Array,
  author: Uint8Array,
): { head: VerifiedHead; digest: ChainDigest } | null {
  const checkpoint = store.chainCheckpoint(dnaHash, author)
  if (checkpoint === null) return null
  const expected = mac(macKey, dnaHash, author, checkpoint)
  if (expected.length !== checkpoint.mac.length || !timingSafeEqual(expected, checkpoint.mac)) return null
  const digest = new ChainDigest()
  for (const blob of store.chainDigestBlobs(dnaHash, author, checkpoint.seq)) digest.update(blob)
  const value = digest.value()
  if (value.length !== checkpoint.digest.length || !timingSafeEqual(value, checkpoint.digest)) return null
  const { hash, seq, timestamp } = checkpoint
  return { head: { hash, seq, timestamp }, digest }
}

function mac(
  macKey: Uint8Array,
  dnaHash: Uint8Array,
  author: Uint8Array,
  checkpoint: Omit<ChainCheckpoint, 'mac'>,
): Uint8Array {
  const numbers = Buffer.alloc(16)
  numbers.writeBigUInt64BE(BigInt(checkpoint.seq), 0)
  numbers.writeBigInt64BE(BigInt(checkpoint.timestamp), 8)
  return new Uint8Array(
    createHmac('sha256', macKey)
      .update(dnaHash)
      .update(author)
      .update(numbers)
      .update(checkpoint.hash)
      .update(checkpoint.digest)
      .digest(),
  )
}
