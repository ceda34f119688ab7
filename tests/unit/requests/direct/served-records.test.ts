/**
 * A requester's records of a window with an honest runner and a lying one, whose proof cites a batch it
 * never publishes: the honest leaf is signed as soon as its batch is here, the lying one alone ends not
 * accepted, saying which batch never came, and nothing else of the window is lost. Over a fake conductor
 * whose rules, as the real ones, refuse a proof until the batch it cites is held.
 */
import { describe, expect, it } from 'vitest'
import { encodeHashB64, holoHashFrom32 } from '../../../../host/identity/hash.ts'
import { payloadHash } from '../../../../host/identity/payload-hash.ts'
import type { CarriedOps, OpCarrier } from '../../../../host/interface/carried-ops.ts'
import type { ConductorPort } from '../../../../host/interface/conductor-port.ts'
import { InvalidEntryError, UnresolvedDependenciesError } from '../../../../host/interface/zome-refusal.ts'
import { silentLogger } from '../../../../host/log/logger.ts'
import { newDirectRequest, requestHash } from '../../../../host/requests/direct/direct-request.ts'
import { type CarriedLeaf, ServedRecords } from '../../../../host/requests/direct/served-records.ts'
import {
  type AnswerLeaf,
  answerLeavesOf,
  isCoverLeaf,
  type ServedLeaves,
} from '../../../../zomes-bindings/index.ts'

const agent = (n: number) => encodeHashB64(holoHashFrom32(new Uint8Array(32).fill(n), 'agent'))
const action = (n: number) => encodeHashB64(holoHashFrom32(new Uint8Array(32).fill(n), 'action'))

const ME = agent(1)
const HONEST = agent(2)
const LIAR = agent(3)
const HONEST_BATCH = action(2)
const MISSING_BATCH = action(3)
const LATE_BATCH = action(4)
const WAIT_MS = 300
const OUTPUT = { text: 'an answer' }

/**
 * A conductor holding `held` batches; a window citing another is refused as unresolved. `signedAt`
 * tells when each ServedBatch was signed, `waits` whether this peer can wait for an action.
 */
function peer(held: Set<string>, waits: boolean, carrier?: Pick<OpCarrier, 'ingest'>) {
  const served: ServedLeaves[] = []
  const signedAt: number[] = []
  const callZome = async (_dna: string, fn: string, payload: unknown) => {
    if (fn !== 'record_served_batch') throw new Error(`unexpected ${fn}`)
    const { leaves } = payload as { leaves: ServedLeaves }
    const missing = leaves.leaves.flatMap((l) => (l.proof && !held.has(l.proof.batch) ? [l.proof.batch] : []))
    if (missing.length > 0) throw new UnresolvedDependenciesError(missing)
    served.push(leaves)
    signedAt.push(Date.now())
    return { batch: action(100 + served.length) }
  }
  const conductor = { agentPubKey: ME, callZome } as unknown as Pick<
    ConductorPort,
    'agentPubKey' | 'callZome'
  >
  const waitForAction = (hash: string, timeoutMs: number) =>
    new Promise<boolean>((resolve) => {
      if (held.has(hash)) return resolve(true)
      const poll = setInterval(() => held.has(hash) && finish(true), 10)
      const timer = setTimeout(() => finish(false), timeoutMs)
      const finish = (stored: boolean) => {
        clearInterval(poll)
        clearTimeout(timer)
        resolve(stored)
      }
    })
  const records = new ServedRecords({
    conductor,
    carrier,
    waitForAction: waits ? waitForAction : undefined,
    batchWindowMs: 20,
    recordWaitMs: WAIT_MS,
    logger: silentLogger(),
  })
  return { records, served, signedAt }
}

/** Records one request served by `runner`, whose proof (true of the output served) cites `batch`. */
function serve(records: ServedRecords, runner: string, batch: string, carried?: CarriedOps) {
  const request = newDirectRequest('infer.generate', 'tiny', { prompt: 'hi' })
  const hash = requestHash(request, ME)
  const leaf: AnswerLeaf = {
    request: hash,
    requester: ME,
    model: 'tiny',
    model_file_hash: null,
    status: 'ok',
    output_hash: payloadHash(OUTPUT),
    tokens_in: 1,
    tokens_out: 1,
    started_at: 1,
    finished_at: 2,
  }
  const signed: CarriedLeaf = {
    proof: { batch, leaf, index: 0, count: 1, path: [] },
    root: answerLeavesOf([leaf]).root,
    ...(carried && { batch: carried }),
  }
  return { hash, recorded: records.record(request, hash, runner, OUTPUT, Promise.resolve(signed)) }
}

const leafOf = (served: ServedLeaves[], request: string) =>
  served.flatMap((s) => s.leaves).find((l) => l.request === request)

describe('a requester’s records with a runner whose proof cites a batch it never publishes', () => {
  it('signs the honest leaf at once, and records the lying one alone as not accepted, with the reason', async () => {
    const { records, served, signedAt } = peer(new Set([HONEST_BATCH]), true)
    const started = Date.now()
    const liar = serve(records, LIAR, MISSING_BATCH)
    const honest = serve(records, HONEST, HONEST_BATCH)

    expect(await honest.recorded).toBe(action(101))
    expect(signedAt[0]! - started).toBeLessThan(WAIT_MS)
    expect(leafOf(served, honest.hash)).toMatchObject({ runner: HONEST, accepted: true, reason: '' })
    expect(leafOf(served, liar.hash)).toBeUndefined()

    expect(await liar.recorded).toBe(action(102))
    expect(Date.now() - started).toBeGreaterThanOrEqual(WAIT_MS)
    expect(leafOf(served, liar.hash)).toEqual(
      expect.objectContaining({
        runner: LIAR,
        proof: null,
        accepted: false,
        reason: `runner ${LIAR}'s batch ${MISSING_BATCH} never arrived within ${WAIT_MS / 1000} s`,
      }),
    )
    expect(served.flatMap((s) => s.leaves)).toHaveLength(2)
    expect(records.counts()).toEqual({ recorded: 2, unrecorded: 0 })
  })

  it('accepts a leaf whose runner’s batch comes late, within its deadline, in the window it joins', async () => {
    const held = new Set([HONEST_BATCH])
    const { records, served } = peer(held, true)
    const late = serve(records, HONEST, LATE_BATCH)
    const honest = serve(records, HONEST, HONEST_BATCH)
    expect(await honest.recorded).toBe(action(101))
    held.add(LATE_BATCH)
    expect(await late.recorded).toBe(action(102))
    expect(leafOf(served, late.hash)).toMatchObject({ accepted: true, proof: { batch: LATE_BATCH } })
  })

  it('without a way to wait for actions, loses only the leaves citing the batch the rules miss', async () => {
    const { records, served } = peer(new Set([HONEST_BATCH]), false)
    const liar = serve(records, LIAR, MISSING_BATCH)
    const honest = serve(records, HONEST, HONEST_BATCH)
    // One window, signed at once without the proof of the batch the rules miss (nothing to wait with).
    expect(await honest.recorded).toBe(action(101))
    expect(await liar.recorded).toBe(action(101))
    expect(leafOf(served, honest.hash)).toMatchObject({ accepted: true, proof: { batch: HONEST_BATCH } })
    expect(leafOf(served, liar.hash)).toMatchObject({ accepted: false, proof: null })
    expect(leafOf(served, liar.hash)?.reason).toContain(`batch ${MISSING_BATCH} never arrived`)
  })

  it('waits at stop for a leaf still waiting for its runner’s batch, and records it', async () => {
    const { records, served } = peer(new Set(), true)
    const liar = serve(records, LIAR, MISSING_BATCH)
    await records.settle()
    expect(leafOf(served, liar.hash)).toMatchObject({ accepted: false })
    expect(await liar.recorded).toBe(action(101))
  })
})

describe('a runner’s batch carried on each proof of its window', () => {
  it('is verified and stored once for the window, and again after a refusal', async () => {
    const held = new Set<string>()
    const ingested: string[] = []
    // Stores what it is given, but a copy whose signature is 'forged'.
    const carrier: Pick<OpCarrier, 'ingest'> = {
      ingest: (_dna, ops) => {
        const [[action, signature]] = ops as [[string, string, null]]
        ingested.push(`${action}:${signature}`)
        if (signature === 'forged') return 'refused'
        held.add(action)
        return 'held'
      },
    }
    const { records, served } = peer(held, true, carrier)
    const ops = (batch: string, signature: string): CarriedOps => [[batch, signature, null]]
    const forged = serve(records, HONEST, HONEST_BATCH, ops(HONEST_BATCH, 'forged'))
    const window = [1, 2, 3].map(() => serve(records, HONEST, HONEST_BATCH, ops(HONEST_BATCH, 'sig')))
    const next = serve(records, HONEST, LATE_BATCH, ops(LATE_BATCH, 'sig'))
    await Promise.all([forged, ...window, next].map((s) => s.recorded))
    expect(ingested).toEqual([`${HONEST_BATCH}:forged`, `${HONEST_BATCH}:sig`, `${LATE_BATCH}:sig`])
    expect(leafOf(served, forged.hash)?.proof).toBeNull()
    for (const s of [...window, next]) expect(leafOf(served, s.hash)?.proof).not.toBeNull()
  })
})

describe('a requester’s cover: a window signed on every slot, asked in or not', () => {
  function covering(refuse: boolean) {
    const calls: ServedLeaves[] = []
    const callZome = async (_dna: string, _fn: string, payload: unknown) => {
      calls.push((payload as { leaves: ServedLeaves }).leaves)
      if (refuse) throw new InvalidEntryError('author_role', 'the author joined as a worker', null)
      return { batch: action(100 + calls.length) }
    }
    const conductor = { agentPubKey: ME, callZome } as unknown as Pick<
      ConductorPort,
      'agentPubKey' | 'callZome'
    >
    const records = new ServedRecords({ conductor, coverSlotMs: 20, logger: silentLogger() })
    return { records, calls }
  }

  it('signs one cover leaf in a slot with no request, and the requests alone in a slot with some', async () => {
    const { records, calls } = covering(false)
    records.start()
    await expect.poll(() => calls.length).toBeGreaterThanOrEqual(2)
    const { hash, recorded } = serve(records, HONEST, HONEST_BATCH)
    expect(await recorded).not.toBeNull()
    await records.settle()
    const windows = calls.map((leaves) => leaves.leaves.map((l) => (isCoverLeaf(l) ? 'cover' : l.request)))
    expect(windows.slice(0, 2)).toEqual([['cover'], ['cover']])
    expect(windows).toContainEqual([hash])
    // Every window is one slot's: no request shares a window with a cover leaf.
    expect(windows.every((w) => w.length === 1)).toBe(true)
    const covers = calls.filter((c) => isCoverLeaf(c.leaves[0]!))
    expect(new Set(covers.map((c) => c.root)).size).toBe(covers.length)
  })

  it('stops when the rules refuse its record (a peer that joined as a worker asks for nothing)', async () => {
    const { records, calls } = covering(true)
    records.start()
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(calls).toHaveLength(1)
    await records.settle()
  })
})
