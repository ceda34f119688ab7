import { describe, expect, it } from 'vitest'
import { loadNetworkConfig } from '../../../host/config/network-config.ts'
import {
  DEFAULT_RECORD_HOLDERS,
  NetworkConfigSchema,
  RecordConfigSchema,
} from '../../../host/config/network-schema.ts'

describe('the record section of a network file', () => {
  it.each([
    [{}, true],
    [{ holders: 1 }, true],
    [{ holders: 8 }, true],
    [{ holders: 1_000 }, true],
    [{ holders: 0 }, false],
    [{ holders: 2.5 }, false],
    [{ holders: 1_001 }, false],
    [{ holders: '8' }, false],
    [{ served_slot_ms: 1_000 }, true],
    [{ served_slot_ms: 1_000, holders: 16 }, true],
    [{ served_slot_ms: 50 }, false],
  ])('%j is accepted: %s', (record, ok) => {
    expect(RecordConfigSchema.safeParse(record).success).toBe(ok)
  })

  it('leaves holders to the default of 8 in the shipped network, and may name holders alone', async () => {
    const local = await loadNetworkConfig('local')
    expect(DEFAULT_RECORD_HOLDERS).toBe(8)
    expect(local.record?.holders).toBeUndefined()
    const parsed = NetworkConfigSchema.parse({ ...local, record: { holders: 3 } })
    expect(parsed.record).toEqual({ holders: 3 })
  })
})
