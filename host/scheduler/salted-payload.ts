/**
 * A task's input and output salted with a secret of the task's two parties, so the hashes the Task and
 * its Results publish (`input_hash`, `output_hash`) confirm no guess: without the salt, a bystander who
 * guesses a prompt cannot compute its hash. The payload kept privately and carried between the parties
 * is the envelope `{content, ripple_salted: 1, salt}`, and its hash (payload-hash.ts) is sha256 of the
 * envelope's canonical JSON, which holds the 32 random bytes of the salt with the content: the
 * requester draws one salt per task, the assignee checks the input against the Task's hash as before
 * and salts its output with the same salt (so equal outputs of a fanned-out task still hash alike).
 * A payload that is no envelope (a task of a release before salting) is read as it is.
 */
import { randomBytes } from 'node:crypto'
import { z } from 'zod'

const SaltedSchema = z.strictObject({
  ripple_salted: z.literal(1),
  salt: z.string().regex(/^[0-9a-f]{64}$/),
  content: z.json(),
})
export type Salted = z.infer<typeof SaltedSchema>

/** A fresh salt: 32 random bytes, hex. */
export function newSalt(): string {
  return randomBytes(32).toString('hex')
}

/** `content` in its envelope, salted with `salt`. */
export function salted(content: unknown, salt: string): Salted {
  return { ripple_salted: 1, salt, content: content as Salted['content'] }
}

/** What a kept payload holds, and its salt (null when it was kept unsalted). */
export function unsalted(kept: unknown): { content: unknown; salt: string | null } {
  const envelope = SaltedSchema.safeParse(kept)
  return envelope.success
    ? { content: envelope.data.content, salt: envelope.data.salt }
    : { content: kept, salt: null }
}
