import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { ConductorPort } from '../../../host/interface/conductor-port.ts'
import { silentLogger } from '../../../host/log/logger.ts'
import { keepUsage } from '../../../host/usage/usage-file.ts'
import { UsageLedger } from '../../../host/usage/usage-ledger.ts'
import { type AnswerLeaf, answerLeavesOf } from '../../../zomes-bindings/index.ts'

const dirs: string[] = []
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
})

async function signWindow(ledger: UsageLedger, tokens: number) {
  const now = Date.now() * 1000
  const leaf: AnswerLeaf = {
    request: 'a'.repeat(64),
    requester: 'uhCAkRequester',
    model: 'm',
    model_file_hash: null,
    status: 'ok',
    output_hash: 'f'.repeat(64),
    tokens_in: tokens,
    tokens_out: 1,
    started_at: now - 2_000_000,
    finished_at: now,
  }
  const conductor = ledger.watch({ callZome: async () => ({}) } as unknown as Pick<ConductorPort, 'callZome'>)
  await conductor.callZome('resource_mesh', 'post_answer_batch', {
    leaves: answerLeavesOf([leaf]),
    opened_at: now,
    closed_at: now,
  })
}

describe('usage kept in the data dir', () => {
  it('outlives a restart: rows written at stop are read at start and added to', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ripple-usage-'))
    dirs.push(dir)
    const path = join(dir, 'usage.json')
    const first = new UsageLedger()
    const kept = keepUsage(first, path, silentLogger())
    await kept.start()
    await signWindow(first, 10)
    await kept.stop()

    const second = new UsageLedger()
    await keepUsage(second, path, silentLogger()).start()
    expect(second.rows()).toMatchObject([{ direction: 'served', requests: 1, tokens_in: 10, busy_s: 2 }])
    await signWindow(second, 5)
    expect(second.servedTo('uhCAkRequester', 0)).toEqual({ requests: 2, tokens: 17 })
  })

  it('sets aside a file that does not read as rows, and starts afresh', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ripple-usage-'))
    dirs.push(dir)
    const path = join(dir, 'usage.json')
    await writeFile(path, '{"not": "rows"')
    const ledger = new UsageLedger()
    await keepUsage(ledger, path, silentLogger()).start()
    expect(ledger.rows()).toEqual([])
    expect(await readFile(`${path}.bad`, 'utf8')).toBe('{"not": "rows"')
  })
})
