/**
 * Reading action bytes a peer sent. First only the claimed author (so the signature can be checked
 * before anything else is trusted), then, once the author is known to have signed the bytes, the
 * full shape: an action of a type this conductor writes, with well-formed hashes. A shape error
 * after a good signature is the author's doing; before it, the sender's.
 */
import type { Action } from '@holochain/client'
import { z } from 'zod'
import { decodeMsgpack } from '../../../identity/canonical.ts'
import { type HoloHashKind, holoHashKind } from '../../../identity/hash.ts'

const holoHash = (kind: HoloHashKind) =>
  z.custom<Uint8Array>((v) => v instanceof Uint8Array && holoHashKind(v) === kind, `not a ${kind} hash`)
const anyHoloHash = z.custom<Uint8Array>(
  (v) => v instanceof Uint8Array && holoHashKind(v) !== null,
  'not a HoloHash',
)
const index = z.number().int().min(0).max(255)
const signed = { author: holoHash('agent'), timestamp: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) }
const chained = { ...signed, action_seq: z.number().int().min(1), prev_action: holoHash('action') }
const entryType = z.union([
  z.literal('Agent'),
  z.object({
    App: z.object({ entry_index: index, zome_index: index, visibility: z.enum(['Public', 'Private']) }),
  }),
])

const actionSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('Dna'), ...signed, hash: holoHash('dna') }),
  z.object({ type: z.literal('AgentValidationPkg'), ...chained, membrane_proof: z.unknown() }),
  z.object({ type: z.literal('InitZomesComplete'), ...chained }),
  z.object({ type: z.literal('Create'), ...chained, entry_type: entryType, entry_hash: holoHash('entry') }),
  z.object({
    type: z.literal('Update'),
    ...chained,
    original_action_address: holoHash('action'),
    original_entry_address: holoHash('entry'),
    entry_type: entryType,
    entry_hash: holoHash('entry'),
  }),
  z.object({
    type: z.literal('Delete'),
    ...chained,
    deletes_address: holoHash('action'),
    deletes_entry_address: holoHash('entry'),
  }),
  z.object({
    type: z.literal('CreateLink'),
    ...chained,
    base_address: anyHoloHash,
    target_address: anyHoloHash,
    zome_index: index,
    link_type: index,
    tag: z.instanceof(Uint8Array),
  }),
  z.object({
    type: z.literal('DeleteLink'),
    ...chained,
    base_address: anyHoloHash,
    link_add_address: holoHash('action'),
  }),
])

export interface ClaimedAction {
  /** The decoded content, not yet checked beyond its author field. */
  content: unknown
  author: Uint8Array
}

/** The decoded bytes and the agent they claim as author, or null when they name none. */
export function readClaimedAuthor(bytes: Uint8Array): ClaimedAction | null {
  let content: unknown
  try {
    content = decodeMsgpack(bytes)
  } catch {
    return null
  }
  if (typeof content !== 'object' || content === null || !('author' in content)) return null
  const author = content.author
  return author instanceof Uint8Array && holoHashKind(author) === 'agent' ? { content, author } : null
}

/** The content as an action, or what keeps it from being one this conductor could have written. */
export function parseActionContent(content: unknown): { action: Action } | { problem: string } {
  const parsed = actionSchema.safeParse(content)
  if (parsed.success) return { action: content as Action }
  const issue = parsed.error.issues[0]
  return {
    problem: `not a well-formed action: ${issue?.path.join('.') || '(root)'} ${issue?.message ?? ''}`.trim(),
  }
}
