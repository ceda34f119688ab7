import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { decodeHashB64, hashesEqual } from '../../../host/identity/hash.ts'
import { openNotesCell, tempDir } from './fixtures/test-cell.ts'

const WRITER = fileURLToPath(new URL('./fixtures/write-loop.ts', import.meta.url))

/** Resolves with the lines the child printed once it has printed at least `count`. */
function linesAfter(child: ChildProcess, count: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const lines: string[] = []
    let partial = ''
    let stderr = ''
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    child.stdout!.on('data', (d: Buffer) => {
      const parts = (partial + d.toString()).split('\n')
      partial = parts.pop()!
      lines.push(...parts)
      if (lines.length >= count) resolve(lines)
    })
    child.on('exit', (code) => reject(new Error(`writer exited early (${code}): ${stderr}`)))
  })
}

describe('crash safety', () => {
  it('keeps a verifiable chain with every committed record when the writer is SIGKILLed mid-write', async () => {
    const dataDir = await tempDir()
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dataDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const exited = new Promise((resolve) => child.on('exit', resolve))
    const printed = await linesAfter(child, 200)
    child.kill('SIGKILL')
    await exited
    // The child may have printed more between our read and the kill; take all of it.
    const committed = printed.map((line) => {
      const [seq, hash] = line.split(' ')
      return { seq: Number(seq), hash: decodeHashB64(hash!, 'action') }
    })

    const { cell, store } = await openNotesCell(dataDir)
    const last = committed.at(-1)!
    expect(cell.chain.head.seq).toBeGreaterThanOrEqual(last.seq)
    for (const { seq, hash } of committed) {
      const row = store.getAction(hash)
      expect(row?.seq).toBe(seq)
      if (row?.entryHash) expect(store.getEntry(row.entryHash)).not.toBeNull()
    }
    // Writes after the crash land on the recovered head.
    const head = cell.chain.head
    const next = await cell.call((hdk) => hdk.create_entry('Note', { text: 'after the crash' }))
    const action = (await cell.call((hdk) => hdk.get(next)))!.signed_action.hashed.content
    expect('prev_action' in action && hashesEqual(action.prev_action, head.hash)).toBe(true)
    expect('action_seq' in action && action.action_seq).toBe(head.seq + 1)
    store.close()
    // Verifies the whole chain again, including the post-crash write.
    const reopened = await openNotesCell(dataDir)
    reopened.store.close()
  }, 60_000)
})
