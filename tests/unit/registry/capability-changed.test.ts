import { describe, expect, it } from 'vitest'
import { capabilityChanged } from '../../../host/registry/capability-changed.ts'
import type { NodeCapability } from '../../../zomes-bindings/index.ts'
import { CAPABILITY } from '../api/fixtures.ts'

const GIB = 1024 ** 3
const withDisk = (bytes: number): NodeCapability => ({
  ...CAPABILITY,
  hardware: { ...CAPABILITY.hardware, disk_free_bytes: bytes },
})

describe('capabilityChanged', () => {
  it('ignores small free-disk movements', () => {
    expect(capabilityChanged(withDisk(100 * GIB), withDisk(100 * GIB - 10 * 1024 ** 2))).toBe(false)
    expect(capabilityChanged(withDisk(100 * GIB), withDisk(96 * GIB))).toBe(false)
  })

  it('counts a free-disk movement over 5% (and over 1 GiB)', () => {
    expect(capabilityChanged(withDisk(100 * GIB), withDisk(94 * GIB))).toBe(true)
    expect(capabilityChanged(withDisk(2 * GIB), withDisk(0.5 * GIB))).toBe(true)
    expect(capabilityChanged(withDisk(2 * GIB), withDisk(1.5 * GIB))).toBe(false)
  })

  it('counts a new model, a tag or a name change', () => {
    const model = {
      name: 'tiny',
      file_hash: 'a'.repeat(64),
      size_bytes: 1000,
      parameters: 10,
      quantisation: 'F32',
      context_length: 128,
      architecture: 'llama',
      loaded: false,
    }
    expect(
      capabilityChanged(CAPABILITY, {
        ...CAPABILITY,
        inference: { models: [model], tokens_per_second: null },
      }),
    ).toBe(true)
    expect(capabilityChanged(CAPABILITY, { ...CAPABILITY, tags: ['gpu'] })).toBe(true)
    expect(capabilityChanged(CAPABILITY, { ...CAPABILITY, name: 'renamed' })).toBe(true)
  })

  it('does not count key order', () => {
    const reordered = Object.fromEntries(Object.entries(CAPABILITY).reverse()) as NodeCapability
    expect(capabilityChanged(CAPABILITY, reordered)).toBe(false)
  })
})
