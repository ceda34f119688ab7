import { describe, expect, it } from 'vitest'
import { ByteBoundedCache } from '../../../host/runtime/byte-bounded-cache.ts'

describe('ByteBoundedCache', () => {
  it('holds values up to its size, letting go of the oldest first', () => {
    const cache = new ByteBoundedCache<string>(10)
    cache.set('a', 'A', 4)
    cache.set('b', 'B', 4)
    cache.set('c', 'C', 4)
    expect([cache.get('a'), cache.get('b'), cache.get('c'), cache.bytes]).toEqual([undefined, 'B', 'C', 8])
  })

  it('counts a replaced value once, and a deleted one no more', () => {
    const cache = new ByteBoundedCache<string>(10)
    cache.set('a', 'pending', 0)
    cache.set('a', 'A', 6)
    expect([cache.get('a'), cache.bytes]).toEqual(['A', 6])
    cache.delete('a')
    cache.delete('missing')
    expect([cache.get('a'), cache.bytes]).toEqual([undefined, 0])
  })

  it('lets go even of the newest when it alone is larger than the size', () => {
    const cache = new ByteBoundedCache<string>(10)
    cache.set('big', 'B', 11)
    expect([cache.get('big'), cache.bytes]).toEqual([undefined, 0])
  })
})
