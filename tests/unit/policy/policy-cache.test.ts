import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { silentLogger } from '../../../host/log/logger.ts'
import { PolicyService } from '../../../host/policy/policy-service.ts'

/** A conductor that answers list_policies with the version it is at, counting the reads. */
function countingConductor() {
  const state = { version: 1, reads: 0, releases: [] as (() => void)[], hold: false }
  const conductor = {
    agentPubKey: 'uhCAkme',
    callZome: async (_zome: string, fn: string) => {
      if (fn !== 'list_policies') throw new Error(`unexpected ${fn}`)
      state.reads += 1
      const version = state.version
      if (state.hold) await new Promise<void>((resolve) => state.releases.push(resolve))
      return [{ entry: { id: 'p', version, text: '', description: '', admin_grant: null } }]
    },
  }
  return { state, conductor: conductor as never }
}

const versions = (policies: { entry: { version: number } }[]) => policies.map((p) => p.entry.version)

describe('PolicyService cache', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(0)
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('reads once, answers from the cache while young, and refreshes behind a read past half its age', async () => {
    const { state, conductor } = countingConductor()
    const service = new PolicyService({ conductor, cacheMs: 1000, logger: silentLogger() })
    expect(versions(await service.list())).toEqual([1])
    vi.setSystemTime(400)
    state.version = 2
    expect(versions(await service.list())).toEqual([1])
    expect(state.reads).toBe(1)
    // Past half: the cached answer at once, and a read behind it.
    vi.setSystemTime(600)
    expect(versions(await service.list())).toEqual([1])
    expect(state.reads).toBe(2)
    await vi.waitFor(() => expect(service.list().then(versions)).resolves.toEqual([2]))
    expect(state.reads).toBe(2)
  })

  it('waits for a fresh read once the cache is older than cacheMs', async () => {
    const { state, conductor } = countingConductor()
    const service = new PolicyService({ conductor, cacheMs: 1000, logger: silentLogger() })
    await service.list()
    state.version = 3
    vi.setSystemTime(1001)
    expect(versions(await service.list())).toEqual([3])
  })

  it('shares one read among callers, and keeps no read that an invalidation overtook', async () => {
    const { state, conductor } = countingConductor()
    const service = new PolicyService({ conductor, cacheMs: 1000, logger: silentLogger() })
    state.hold = true
    const first = service.list()
    const second = service.list()
    await vi.waitFor(() => expect(state.releases).toHaveLength(1))
    service.invalidate()
    state.version = 2
    // A read begun after the invalidation, still running when the overtaken one ends: later callers
    // share it rather than start another.
    const third = service.list()
    await vi.waitFor(() => expect(state.releases).toHaveLength(2))
    state.releases[0]?.()
    expect(versions(await first)).toEqual([1])
    expect(versions(await second)).toEqual([1])
    const fourth = service.list()
    state.releases[1]?.()
    expect(versions(await third)).toEqual([2])
    expect(versions(await fourth)).toEqual([2])
    expect(state.reads).toBe(2)
    // The read after the invalidation was kept: the next ask is answered from it.
    expect(versions(await service.list())).toEqual([2])
    expect(state.reads).toBe(2)
  })
})
