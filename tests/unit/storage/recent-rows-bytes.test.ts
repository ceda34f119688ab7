import { describe, expect, it } from 'vitest'
import { RecentRows } from '../../../host/storage/recent-rows.ts'

const MiB = 2 ** 20
const rows = () => new RecentRows<Uint8Array>(8192, 16 * MiB, (row) => row.length)

describe('RecentRows bounded by bytes', () => {
  it('keeps at most its bytes of large rows, dropping the oldest (1 MiB payloads by the thousand)', () => {
    const kept = rows()
    for (let i = 0; i < 1_000; i++) kept.keep(`payload ${i}`, new Uint8Array(MiB))
    expect(kept.bytes).toBeLessThanOrEqual(16 * MiB)
    expect(kept.get('payload 999')).toHaveLength(MiB)
    expect(kept.get('payload 983')).toBeUndefined()
  })

  it('does not keep a row larger than its bytes, and counts a row kept again once', () => {
    const kept = rows()
    kept.keep('small', new Uint8Array(10))
    kept.keep('small', new Uint8Array(10))
    expect(kept.bytes).toBe(10)
    kept.keep('huge', new Uint8Array(17 * MiB))
    expect(kept.get('huge')).toBeUndefined()
    expect(kept.get('small')).toHaveLength(10)
    kept.clear()
    expect(kept.bytes).toBe(0)
  })

  it('still bounds by count', () => {
    const kept = new RecentRows<number>(3)
    for (let i = 0; i < 5; i++) kept.keep(`r${i}`, i)
    expect([0, 1, 2, 3, 4].map((i) => kept.get(`r${i}`))).toEqual([undefined, undefined, 2, 3, 4])
  })
})
