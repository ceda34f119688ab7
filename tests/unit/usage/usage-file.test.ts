/**
 * Usage across a restart (issue 47, point 1): the rows are rebuilt from the peer's own windows on its
 * chain; usage.json gives back the API keys the leaves do not carry where its counts agree, and
 * changes no total.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { ConductorPort } from '../../../host/interface/conductor-port.ts'
import { silentLogger } from '../../../host/log/logger.ts'
import { keepUsage } from '../../../host/usage/usage-file.ts'
import { UsageLedger } from '../../../host/usage/usage-ledger.ts'
import type { OwnWindows } from '../../../host/usage/usage-rebuild.ts'
import { type AnswerLeaf, answerLeavesOf } from '../../../zomes-bindings/index.ts'

const dirs: string[] = []
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
})

/** A conductor whose chain keeps the windows written, and lists them back. */
function chain() {
  const windows: OwnWindows = { answered: [], served: [] }
  return {
    windows,
    callZome: async (_dna: string, fn: string, payload: unknown) => {
      if (fn === 'post_answer_batch') windows.answered.push(payload as OwnWindows['answered'][number])
      return fn === 'list_own_windows' ? windows : {}
    },
  } as unknown as Pick<ConductorPort, 'callZome'> & { windows: OwnWindows }
}

async function signWindow(ledger: UsageLedger, conductor: Pick<ConductorPort, 'callZome'>, tokens: number) {
  const now = Date.now() * 1000
  const request = String(tokens).padStart(64, '0')
  const leaf: AnswerLeaf = {
    request,
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
  ledger.note(request, { key: 'k1', reasoning: 3 })
  await ledger.watch(conductor).callZome('resource_mesh', 'post_answer_batch', {
    leaves: answerLeavesOf([leaf]),
    opened_at: now,
    closed_at: now,
  })
}

async function dataDir() {
  const dir = await mkdtemp(join(tmpdir(), 'ripple-usage-'))
  dirs.push(dir)
  return join(dir, 'usage.json')
}

const served = { direction: 'served', member: 'uhCAkRequester', requests: 2, tokens_in: 15, busy_s: 4 }

describe('usage across a restart', () => {
  it('rebuilt from the chain, with the notes usage.json kept', async () => {
    const [path, conductor] = [await dataDir(), chain()]
    const first = new UsageLedger()
    const kept = keepUsage(first, conductor, path, silentLogger())
    await kept.start()
    await signWindow(first, conductor, 10)
    await signWindow(first, conductor, 5)
    await kept.stop()

    const second = new UsageLedger()
    await keepUsage(second, conductor, path, silentLogger()).start()
    // The reasoning tokens noted (not in the leaves) come back from usage.json.
    expect(second.rows()).toMatchObject([{ ...served, reasoning_tokens: 6 }])
    await signWindow(second, conductor, 7)
    expect(second.servedTo('uhCAkRequester', 0)).toEqual({ requests: 3, tokens: 25 })
  })

  it('with usage.json deleted, the totals equal the leaves (the keys unknown)', async () => {
    const [path, conductor] = [await dataDir(), chain()]
    const first = new UsageLedger()
    await signWindow(first, conductor, 10)
    await signWindow(first, conductor, 5)
    const second = new UsageLedger()
    await keepUsage(second, conductor, path, silentLogger()).start()
    expect(second.rows()).toMatchObject([{ ...served, key: null, reasoning_tokens: 0 }])
  })

  it('a usage.json that says more than the leaves changes no total', async () => {
    const [path, conductor] = [await dataDir(), chain()]
    const first = new UsageLedger()
    await signWindow(first, conductor, 10)
    await signWindow(first, conductor, 5)
    const inflated = first.rows().map((r) => ({ ...r, tokens_in: r.tokens_in * 100 }))
    await writeFile(path, JSON.stringify(inflated))
    const second = new UsageLedger()
    await keepUsage(second, conductor, path, silentLogger()).start()
    expect(second.rows()).toMatchObject([{ ...served, key: null }])
  })

  it('sets aside a file that does not read as rows; the chain’s rows stand', async () => {
    const [path, conductor] = [await dataDir(), chain()]
    await signWindow(new UsageLedger(), conductor, 10)
    await writeFile(path, '{"not": "rows"')
    const ledger = new UsageLedger()
    await keepUsage(ledger, conductor, path, silentLogger()).start()
    expect(ledger.rows()).toMatchObject([{ requests: 1, tokens_in: 10 }])
    expect(await readFile(`${path}.bad`, 'utf8')).toBe('{"not": "rows"')
  })
  it('writes one at a time: writes that overlap each land whole', async () => {
    const [path, conductor] = [await dataDir(), chain()]
    const ledger = new UsageLedger()
    await signWindow(ledger, conductor, 10)
    const kept = keepUsage(ledger, conductor, path, silentLogger())
    await kept.start()
    await Promise.all([kept.stop(), kept.stop(), kept.stop()])
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject([{ requests: 1, tokens_in: 10 }])
  })
})
