/**
 * The runner's frames: those of one turn go out in one write, in order, and a peer reads them as the
 * frames they were (each keeps its length prefix); a failed write does not hold the ones after it.
 */
import { streamPair } from '@libp2p/utils'
import { describe, expect, it } from 'vitest'
import { jsonFrames } from '../../../../host/requests/direct/direct-wire.ts'
import { frameSender } from '../../../../host/requests/direct/frame-sender.ts'

/** Records each write's frames. */
function recorder(fail: (batch: unknown[]) => boolean = () => false) {
  const writes: unknown[][] = []
  return {
    writes,
    frames: {
      async writeAll(values: readonly unknown[]) {
        writes.push([...values])
        if (fail([...values])) throw new Error('the stream broke')
      },
    },
  }
}

describe('frameSender', () => {
  it('writes the frames of one turn at once, and those of a later turn after them', async () => {
    const { writes, frames } = recorder()
    const sender = frameSender(frames, new AbortController().signal)
    sender.send({ type: 'accepted' })
    await sender.sent()
    sender.send({ type: 'token', text: 'Hi' })
    sender.send({ type: 'done', output: { text: 'Hi' } })
    sender.send({ type: 'proof', proof: null, root: null })
    await sender.sent()
    expect(writes).toEqual([
      [{ type: 'accepted' }],
      [
        { type: 'token', text: 'Hi' },
        { type: 'done', output: { text: 'Hi' } },
        { type: 'proof', proof: null, root: null },
      ],
    ])
  })

  it('goes on after a failed write, and sent() resolves', async () => {
    const { writes, frames } = recorder((batch) => batch.length === 1)
    const sender = frameSender(frames, new AbortController().signal)
    sender.send({ type: 'accepted' })
    await sender.sent()
    sender.send({ type: 'failed', message: 'x' })
    sender.send({ type: 'proof', proof: null, root: null })
    await expect(sender.sent()).resolves.toBeUndefined()
    expect(writes.map((w) => w.length)).toEqual([1, 2])
  })

  it('is read on a real stream as the frames it sent, one by one', async () => {
    const [runner, requester] = await streamPair()
    const sender = frameSender(jsonFrames(runner), new AbortController().signal)
    const sent = [{ type: 'token', text: 'é ✓' }, { type: 'done', output: 'é ✓' }, { type: 'proof' }]
    for (const frame of sent) sender.send(frame)
    await sender.sent()
    const reader = jsonFrames(requester)
    expect([await reader.read(), await reader.read(), await reader.read()]).toEqual(sent)
  })
})
