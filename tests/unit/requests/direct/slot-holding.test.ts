/**
 * The two ways around the two-phase offer (issue 55, point 7), closed: a member that holds a runner's
 * slots with offers and never sends their prompts loses each slot after a few seconds, another member
 * is served in it, and the time it held is charged to it (it takes no slot for as long again); and a
 * requester asks a runner for the one direct version its hello states, so a member that answers
 * version 1 alone (which takes the prompt in its first frame) gets no prompt from a requester of today.
 */
import { describe, expect, it } from 'vitest'
import { OWN_STATEMENT, UNSTATED } from '../../../../host/interface/release.ts'
import { silentLogger } from '../../../../host/log/logger.ts'
import { NO_POLICY_VERDICT } from '../../../../host/policy/cedar-engine.ts'
import { digestRequest, newDirectRequest } from '../../../../host/requests/direct/direct-request.ts'
import { DirectRunner } from '../../../../host/requests/direct/direct-runner.ts'
import {
  DIRECT_PROTOCOL_V1,
  DIRECT_PROTOCOL_V2,
  directProtocolFor,
  jsonFrames,
  MAX_FRAME_BYTES,
  RunnerFrameSchema,
} from '../../../../host/requests/direct/direct-wire.ts'
import {
  PROMPT_BYTES_PER_S,
  PROMPT_START_MS,
  promptWaitMs,
  serveDirect,
} from '../../../../host/requests/direct/runner-streams.ts'
import { SlotTurns, UNUSED_FREE_MS } from '../../../../host/requests/direct/slot-turns.ts'
import {
  A,
  ask,
  B,
  echo,
  FakeMesh,
  fakeConductor,
  hashOf,
  ME,
  MODEL,
  peer,
  requester,
  runner,
} from './direct-fixtures.ts'

/** A member that offers and never prompts. */
const HOLDER = hashOf('agent', 9)
const SECRET = 'the secret prompt'

function offerOf(prompt: string, by: string) {
  const request = newDirectRequest('infer.generate', MODEL, { prompt })
  return { request, offer: { kind: request.kind, model: MODEL, ...digestRequest(request, by) } }
}

async function openAs(mesh: FakeMesh, me: string, agent: string) {
  const frames = jsonFrames(await mesh.port(me).open(agent, DIRECT_PROTOCOL_V2))
  return { frames, next: async () => RunnerFrameSchema.parse(await frames.read()) }
}

/** Runner A with one slot, its prompts awaited `promptStartMs`, its debts kept by the clock `clock`. */
async function oneSlotRunner(mesh: FakeMesh, clock: { now: number }, promptStartMs = 50) {
  const runs: string[] = []
  const direct = new DirectRunner({
    conductor: fakeConductor(A).conductor,
    workers: {
      get: () => ({
        ...echo,
        run: (input, ctx) => {
          runs.push((input as { prompt: string }).prompt)
          return echo.run(input, ctx)
        },
      }),
    },
    policies: { decide: async () => NO_POLICY_VERDICT },
    slotsOf: () => ({ slots: 1, busy: 0 }),
    batchWindowMs: 5,
    now: () => clock.now,
    logger: silentLogger(),
  })
  await serveDirect(direct, mesh.port(A), silentLogger(), null, { promptStartMs })
  return runs
}

describe('a member holding slots with offers alone', () => {
  it('loses the slot when no prompt follows ready, another member is served, and it is charged', async () => {
    const mesh = new FakeMesh()
    const clock = { now: 1_000_000 }
    const runs = await oneSlotRunner(mesh, clock)
    const holder = await openAs(mesh, HOLDER, A)
    await holder.frames.write({ offer: offerOf('never sent', HOLDER).offer, queue: false })
    expect(await holder.next()).toEqual({ type: 'ready' })
    // The runner's one slot is held: another member's offer waits in line for it.
    const other = await openAs(mesh, ME, A)
    const { request, offer } = offerOf('mine', ME)
    await other.frames.write({ offer, queue: true })
    // Ten seconds by the runner's clock pass before the short wait for the holder's prompt ends.
    clock.now += 10_000
    expect(await holder.next()).toMatchObject({ type: 'refused', why: 'invalid' })
    expect(await other.next()).toEqual({ type: 'ready' })
    await other.frames.write({ request })
    expect(await other.next()).toEqual({ type: 'accepted' })
    expect(await other.next()).toEqual({ type: 'token', text: 'echo' })
    expect(await other.next()).toMatchObject({ type: 'done', output: { text: 'echo: mine' } })
    // Charged as if it had run ten seconds (less a round trip's second): with the slot free, the holder takes none until then.
    const again = await openAs(mesh, HOLDER, A)
    await again.frames.write({ offer: offerOf('again', HOLDER).offer, queue: false })
    expect(await again.next()).toMatchObject({ type: 'refused', why: 'busy/limited', retry_after_s: 9 })
    clock.now += 9_000
    const later = await openAs(mesh, HOLDER, A)
    await later.frames.write({ offer: offerOf('later', HOLDER).offer, queue: false })
    expect(await later.next()).toEqual({ type: 'ready' })
    expect(runs).toEqual(['mine'])
    expect(mesh.readBy(A)).not.toContain('never sent')
  })
})

describe('the debt of a slot held unused', () => {
  const turns = (clock: { now: number }) =>
    new SlotTurns({ self: 'owner', slotsOf: () => ({ slots: 2, busy: 0 }), pollMs: 5, now: () => clock.now })
  const signal = new AbortController().signal
  const take = (t: SlotTurns, member: string, queue = false) =>
    t.take('m', member, { queue, signal, waitMs: 60_000 })

  it.each([
    { name: 'a slot given back used', unusedMs: 0, owed: 0 },
    { name: 'a slot given back within a round trip', unusedMs: UNUSED_FREE_MS, owed: 0 },
    { name: 'a slot held 3 s for nothing', unusedMs: 3_000, owed: 3_000 - UNUSED_FREE_MS },
  ])('$name: owed $owed ms', async ({ unusedMs, owed }) => {
    const clock = { now: 0 }
    const t = turns(clock)
    expect(await take(t, 'h')).toBe(true)
    t.release('m', 'h', unusedMs)
    expect(t.owedMs('h')).toBe(owed)
    expect(await take(t, 'h')).toBe(owed === 0)
    // Another member is not kept out by it.
    expect(await take(t, 'other')).toBe(true)
  })

  it('adds debts up, keeps the debtor out until paid, and never charges the owner', async () => {
    const clock = { now: 0 }
    const t = turns(clock)
    for (let i = 0; i < 2; i++) expect(await take(t, 'h')).toBe(true)
    t.release('m', 'h', 3_000)
    t.release('m', 'h', 3_000)
    expect(t.owedMs('h')).toBe(4_000)
    const waiting = take(t, 'h', true)
    clock.now += 3_999
    expect(await take(t, 'h')).toBe(false)
    clock.now += 1
    // Its request waiting in line takes the slot once the debt is paid.
    expect(await waiting).toBe(true)
    expect(await take(t, 'owner')).toBe(true)
    t.release('m', 'owner', 5_000)
    expect(t.owedMs('owner')).toBe(0)
  })
})

describe('how long a held slot waits for its request', () => {
  it.each([
    { input_bytes: 0, ms: PROMPT_START_MS },
    { input_bytes: PROMPT_BYTES_PER_S, ms: PROMPT_START_MS + 1_000 },
    // An offer cannot buy more than a whole frame's time by saying a larger input.
    {
      input_bytes: 10 * MAX_FRAME_BYTES,
      ms: PROMPT_START_MS + (MAX_FRAME_BYTES / PROMPT_BYTES_PER_S) * 1_000,
    },
  ])('$input_bytes bytes: $ms ms', ({ input_bytes, ms }) => {
    expect(promptWaitMs({ input_bytes })).toBe(ms)
  })

  it('is a few seconds for a prompt of text', () => {
    expect(PROMPT_START_MS).toBeLessThanOrEqual(5_000)
  })
})

describe('the direct version a requester asks for', () => {
  it.each([
    { name: 'a peer not met yet', statement: undefined, asks: DIRECT_PROTOCOL_V2 },
    { name: 'a peer of this release', statement: OWN_STATEMENT, asks: DIRECT_PROTOCOL_V2 },
    { name: 'a peer stating release 0.1.0', statement: UNSTATED, asks: DIRECT_PROTOCOL_V1 },
    {
      name: 'a peer of a later release',
      statement: { release: '9.0.0', protocols: { direct: 3 } },
      asks: DIRECT_PROTOCOL_V2,
    },
  ])('$name: $asks', ({ statement, asks }) => {
    expect(directProtocolFor(statement)).toBe(asks)
  })

  it('sends no prompt to a member of this release that answers version 1 alone', async () => {
    const mesh = new FakeMesh()
    const served: string[] = []
    // M states this release in its hello, and serves only the version that takes the prompt at once.
    const M = hashOf('agent', 7)
    mesh.stated.set(M, OWN_STATEMENT)
    mesh.serve(M, DIRECT_PROTOCOL_V1, async (stream) => {
      served.push(JSON.stringify(await jsonFrames(stream).read()))
    })
    const runs = await runner(mesh, B)
    const { inference } = requester(mesh, [peer(M, 8), peer(B, 2)])
    const answer = await ask(inference, SECRET)
    expect(answer).toMatchObject({ peer: B, output: { text: `echo: ${SECRET}` } })
    expect(inference.stats()).toMatchObject({ failovers: 1 })
    expect(served).toEqual([])
    expect(mesh.readBy(M)).not.toContain(SECRET)
    expect(runs).toEqual([SECRET])
  })

  it('asks version 1 of a member whose hello states release 0.1.0, and only then', async () => {
    const mesh = new FakeMesh()
    const M = hashOf('agent', 7)
    mesh.stated.set(M, UNSTATED)
    const runs = await runner(mesh, M)
    const { inference } = requester(mesh, [peer(M, 8)])
    expect(await ask(inference, SECRET)).toMatchObject({ peer: M })
    expect(runs).toEqual([SECRET])
    // Its first frame was the request itself (version 1).
    expect(mesh.readBy(M)).toContain(`"request":{`)
    expect(mesh.readBy(M)).not.toContain('"offer"')
  })
})
