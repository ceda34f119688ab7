/**
 * What a peer holds and hears of the mesh-wide beat does not grow with the mesh (design 4e): at most
 * HELD_MAX heartbeats held, the ones it wants first, a sample of the rest; the idle pace counted from
 * the record once the view is full, so the mesh as a whole beats HEARD_PER_INTERVAL times an interval
 * whatever its size. A mesh smaller than HELD_MAX holds every heartbeat, as before.
 */
import { describe, expect, it } from 'vitest'
import { HEARD_PER_INTERVAL, idlePaceMs, NEWS_TO_ALL_BELOW } from '../../../host/registry/heartbeat-pace.ts'
import { HELD_MAX, type HeldSlot, makeRoom, othersOnline } from '../../../host/registry/held-heartbeats.ts'
import { PeerView } from '../../../host/registry/peer-view.ts'
import type { Heartbeat } from '../../../zomes-bindings/index.ts'

const slot = (agent: string, receivedAt: number, over: Partial<HeldSlot> = {}): HeldSlot => ({
  agent,
  receivedAt,
  offline: false,
  wanted: false,
  ...over,
})

describe('makeRoom', () => {
  const held = [
    slot('a', 30),
    slot('b', 10, { wanted: true }),
    slot('c', 20),
    slot('d', 40, { offline: true }),
    slot('e', 5, { offline: true }),
  ]
  const wantedOnly = [slot('a', 30, { wanted: true }), slot('b', 10, { wanted: true })]
  it.each<[string, HeldSlot[], number, boolean, ReturnType<typeof makeRoom>]>([
    ['room left: taken', held, 6, false, { take: true, drop: null }],
    ['full: in place of the one offline longest', held, 5, false, { take: true, drop: 'e' }],
    ['full, none offline, not wanted: turned away', held.slice(0, 3), 3, false, { take: false }],
    [
      'full, none offline, wanted: for the oldest unwanted',
      held.slice(0, 3),
      3,
      true,
      { take: true, drop: 'c' },
    ],
    ['full of wanted ones, wanted: for the oldest heard', wantedOnly, 2, true, { take: true, drop: 'b' }],
    ['full of wanted ones, not wanted: turned away', wantedOnly, 2, false, { take: false }],
  ])('%s', (_, slots, max, wanted, room) => {
    expect(makeRoom(slots, wanted, max)).toEqual(room)
  })
})

describe('othersOnline', () => {
  it.each([
    // Listened long enough: the view holds all it hears, those held whatever the record says (members gone are not counted).
    [10, 30, true, 10],
    [HELD_MAX - 1, 500, true, HELD_MAX - 1],
    // Full: it hears more than it holds; the record counts them.
    [HELD_MAX, 999, true, 999],
    [HELD_MAX, 20, true, HELD_MAX],
    // A newcomer to a big mesh on record has not heard its peers yet: the record counts them.
    [3, 500, false, 500],
    [0, NEWS_TO_ALL_BELOW, false, NEWS_TO_ALL_BELOW],
    // A newcomer to a team's mesh: those it heard, as before.
    [3, NEWS_TO_ALL_BELOW - 1, false, 3],
  ])('%i held online, %i members on record, heard all %s: %i', (held, members, heardAll, others) => {
    expect(othersOnline(held, members, heardAll)).toBe(others)
  })

  it('lets a mesh that sends routing news to all hold every heartbeat', () => {
    expect(HELD_MAX).toBeGreaterThan(NEWS_TO_ALL_BELOW)
  })
})

const INTERVAL = 10_000
const config = { interval_ms: INTERVAL, stale_after_missed: 3, offline_after_ms: 60_000 }
const beat = (every_ms: number, over: Partial<Heartbeat> = {}): Heartbeat => ({
  cpu_pct: 1,
  ram_pct: 1,
  gpu_pct: null,
  queue_depth: 0,
  timestamp: 1,
  every_ms,
  ...over,
})

/**
 * One pace of a mesh of `n` idle peers at rest as one peer sees it: every other peer's beat heard once
 * (a tenth of them runners of models it uses, heard on their topics too), each stating the pace every
 * peer keeps at rest, which is what this peer's view then counts.
 */
function onePace(n: number) {
  const view = new PeerView('me', config)
  const members = n - 1
  const rest = idlePaceMs(INTERVAL, othersOnline(Math.min(members, HELD_MAX), members, true))
  for (let i = 0; i < members; i++)
    view.recordHeartbeat(`peer-${i}`, beat(rest), (i * rest) / members, i % 10 === 0)
  const now = rest
  const listed = view.list([], { capability: {} as never, load: null }, now).filter((p) => !p.self)
  const pace = idlePaceMs(INTERVAL, othersOnline(view.onlineOthers(now), members, true))
  return {
    held: listed.length,
    wantedHeld: listed.filter((p) => Number(p.agent.slice(5)) % 10 === 0).length,
    pace,
    // Every peer beats once per pace: the whole mesh's mesh-wide beats an interval, which is what
    // each peer hears an interval (gossipsub delivers each to every subscriber).
    meshBeatsPerInterval: (n * INTERVAL) / pace,
  }
}

describe('what one peer holds and hears of the mesh-wide beat', () => {
  it.each([100, 1_000, 10_000])('at %i peers: bounded, not N', (n) => {
    const { held, wantedHeld, pace, meshBeatsPerInterval } = onePace(n)
    expect(held).toBe(HELD_MAX)
    // The view counts the mesh as the record does, and paces by it.
    expect(pace).toBe(idlePaceMs(INTERVAL, n - 1))
    // The runners of the models it uses are kept before the sample, as many as fit.
    expect(wantedHeld).toBe(Math.min(HELD_MAX, Math.ceil((n - 1) / 10)))
    expect(meshBeatsPerInterval).toBeLessThanOrEqual(HEARD_PER_INTERVAL)
    expect(meshBeatsPerInterval).toBeGreaterThan(HEARD_PER_INTERVAL / 2)
  })

  it('holds every heartbeat of a mesh smaller than what it may hold, as before', () => {
    const { held } = onePace(HELD_MAX)
    expect(held).toBe(HELD_MAX - 1)
  })

  it('makes room for a peer of the sample once one held goes offline', () => {
    const view = new PeerView('me', config, 2)
    view.recordHeartbeat('a', beat(INTERVAL), 0)
    view.recordHeartbeat('b', beat(INTERVAL), 50_000)
    view.recordHeartbeat('c', beat(INTERVAL), 55_000)
    expect(view.liveOthers(55_000)).toEqual(['a', 'b'])
    // a is offline 60 s after its beat: c's next beat takes its place.
    view.recordHeartbeat('c', beat(INTERVAL), 61_000)
    expect(view.liveOthers(61_000)).toEqual(['b', 'c'])
  })

  it('has heard every peer online once a peer silent since it started would be offline, at the slowest pace held', () => {
    const view = new PeerView('me', config)
    // Nothing heard: the network's offline time (60 s).
    expect(view.heardAll(0, 59_999)).toBe(false)
    expect(view.heardAll(0, 60_000)).toBe(true)
    // A big mesh's idle beat stating a pace of 25 intervals: a peer silent that long is offline after 25 minutes.
    view.recordHeartbeat('a', beat(25 * INTERVAL), 1_000)
    expect(view.heardAll(0, 60_000)).toBe(false)
    expect(view.heardAll(0, 25 * 60_000 - 1)).toBe(false)
    expect(view.heardAll(0, 25 * 60_000)).toBe(true)
  })

  it('keeps a head whose split names this peer, as news it wants', () => {
    const view = new PeerView('me', config, 1)
    view.recordHeartbeat('a', beat(INTERVAL), 0)
    const split = { model: 'm', peers: [{ agent: 'me', layers: 2, bytes: 5 }] }
    view.recordHeartbeat('head', beat(INTERVAL, { splits: [split] }), 1_000)
    expect(view.heldForSplits(1_000)).toEqual([{ head: 'head', model: 'm', bytes: 5 }])
  })
})
