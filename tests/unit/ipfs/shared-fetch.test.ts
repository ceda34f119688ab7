import { CID } from 'multiformats/cid'
import { describe, expect, it } from 'vitest'
import type { CatOptions } from '../../../host/ipfs/ipfs-store.ts'
import { SharedFetches } from '../../../host/ipfs/shared-fetch.ts'

const CID_A = CID.parse('bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e')
const BYTES = Uint8Array.from({ length: 12 }, (_, i) => i)

/**
 * A network that hands out BYTES in chunks of 3 when `release()` is called, and a store that serves
 * what has arrived (asking for more than that is a test failure: it would be a second fetch).
 */
function mesh() {
  const fetches: AbortSignal[] = []
  const storeReads: CatOptions[] = []
  let arrived = 0
  let wake = () => {}
  let failWith: Error | null = null
  const start = (_cid: CID, signal: AbortSignal) => {
    fetches.push(signal)
    return (async function* () {
      let sent = 0
      while (sent < BYTES.length) {
        while (sent >= arrived) {
          if (failWith) throw failWith
          signal.throwIfAborted()
          await new Promise<void>((resolve) => {
            wake = resolve
          })
        }
        yield BYTES.slice(sent, sent + 3)
        sent += 3
      }
    })()
  }
  const ipfs = {
    async *cat(_cid: CID, options: CatOptions = {}) {
      storeReads.push(options)
      const from = options.offset ?? 0
      const to = from + (options.length ?? Number.POSITIVE_INFINITY)
      if (to > arrived) throw new Error(`read past what arrived: ${to} > ${arrived}`)
      yield BYTES.slice(from, to)
    },
  }
  const release = async (chunks: number) => {
    arrived = Math.min(BYTES.length, arrived + 3 * chunks)
    wake()
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  const fail = async (err: Error) => {
    failWith = err
    wake()
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  return { fetches: new SharedFetches(ipfs, start), started: fetches, storeReads, release, fail }
}

async function collect(source: AsyncIterable<Uint8Array>): Promise<number[]> {
  const out: number[] = []
  for await (const chunk of source) out.push(...chunk)
  return out
}

describe('SharedFetches', () => {
  it('one fetch for two readers; the late one reads what arrived from the store, then follows', async () => {
    const m = mesh()
    const first = collect(m.fetches.read(CID_A))
    await m.release(2)
    const second = collect(m.fetches.read(CID_A))
    await m.release(2)
    expect(await first).toEqual([...BYTES])
    expect(await second).toEqual([...BYTES])
    expect(m.started).toHaveLength(1)
    // The late reader took the first chunks from the store (the fake refuses reads past what arrived).
    expect(m.storeReads[0]).toEqual(expect.objectContaining({ offset: 0 }))
  })

  it('keeps fetching while a reader remains, and stops when the last one leaves', async () => {
    const m = mesh()
    const leaving = new AbortController()
    const left = collect(m.fetches.read(CID_A, leaving.signal))
    const staying = new AbortController()
    const stays = collect(m.fetches.read(CID_A, staying.signal))
    await m.release(1)
    leaving.abort(new Error('client went away'))
    await expect(left).rejects.toThrow('client went away')
    expect(m.started[0]!.aborted).toBe(false)
    staying.abort(new Error('also gone'))
    await expect(stays).rejects.toThrow('also gone')
    expect(m.started[0]!.aborted).toBe(true)
    // Nobody shares a dropped fetch: the next reader starts its own.
    const again = collect(m.fetches.read(CID_A))
    await m.release(4)
    expect(await again).toEqual([...BYTES])
    expect(m.started).toHaveLength(2)
  })

  it('hands a failed fetch to every reader, and the next read starts afresh', async () => {
    const m = mesh()
    const a = expect(collect(m.fetches.read(CID_A))).rejects.toThrow('nobody holds it')
    const b = expect(collect(m.fetches.read(CID_A))).rejects.toThrow('nobody holds it')
    await m.fail(new Error('nobody holds it'))
    await Promise.all([a, b])
    expect(m.started).toHaveLength(1)
    // The network still fails: the fresh fetch says so too.
    await expect(m.fetches.read(CID_A).next()).rejects.toThrow('nobody holds it')
    expect(m.started).toHaveLength(2)
  })
})
