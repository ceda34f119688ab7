/** `sha256`: the SHA-256 of the given text or base64 bytes. */
import { createHash } from 'node:crypto'
import { z } from 'zod'
import type { Worker } from './worker.ts'

export const Sha256InputSchema = z.strictObject({
  data: z.string(),
  encoding: z.enum(['utf8', 'base64']).default('utf8'),
})
export const Sha256OutputSchema = z.strictObject({
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().min(0),
})

export const sha256Worker: Worker<typeof Sha256InputSchema, typeof Sha256OutputSchema> = {
  kind: 'sha256',
  input: Sha256InputSchema,
  output: Sha256OutputSchema,
  async run(input, ctx) {
    ctx.signal.throwIfAborted()
    const bytes = Buffer.from(input.data, input.encoding)
    return { output: { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length } }
  },
}
