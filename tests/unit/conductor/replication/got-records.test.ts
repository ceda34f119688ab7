import { describe, expect, it } from 'vitest'
import { GotRecords } from '../../../../host/conductor/embedded/replication/got-records.ts'

describe('records kept after a get', () => {
  it.each([
    { name: 'within the bound, all kept', sizes: [3, 3, 3], read: [], kept: ['a', 'b', 'c'] },
    { name: 'past it, the oldest dropped', sizes: [4, 4, 4], read: [], kept: ['b', 'c'] },
    { name: 'a read one counts as the newest', sizes: [4, 4, 4], read: ['a'], kept: ['a', 'c'] },
    { name: 'one larger than the bound not kept', sizes: [3, 11, 3], read: [], kept: ['a', 'c'] },
  ])('$name', ({ sizes, read, kept }) => {
    const got = new GotRecords<string>(10)
    const keys = ['a', 'b', 'c']
    got.set(keys[0]!, keys[0]!, sizes[0]!)
    got.set(keys[1]!, keys[1]!, sizes[1]!)
    for (const key of read) got.get(key)
    got.set(keys[2]!, keys[2]!, sizes[2]!)
    expect(keys.filter((key) => got.get(key) !== undefined)).toEqual(kept)
    expect(got.bytes).toBeLessThanOrEqual(10)
  })

  it('counts a key kept again once', () => {
    const got = new GotRecords<string>(10)
    got.set('a', 'a', 4)
    got.set('a', 'a', 4)
    got.delete('b')
    expect(got.bytes).toBe(4)
    got.delete('a')
    expect([got.bytes, got.get('a')]).toEqual([0, undefined])
  })
})
