import type { Systeminformation } from 'systeminformation'
import { describe, expect, it } from 'vitest'
import { gpusFromControllers } from '../../../host/hardware/gpus.ts'

const controller = (
  c: Partial<Systeminformation.GraphicsControllerData>,
): Systeminformation.GraphicsControllerData => ({
  vendor: '',
  model: '',
  bus: '',
  vram: null,
  vramDynamic: false,
  ...c,
})

describe('gpusFromControllers', () => {
  it('takes VRAM from nvidia-smi (MiB) over lspci', () => {
    const gpus = gpusFromControllers([
      controller({
        vendor: 'NVIDIA Corporation',
        model: 'GH100',
        name: 'NVIDIA H100 80GB HBM3',
        vram: 1024,
        memoryTotal: 81559,
      }),
    ])
    expect(gpus).toEqual([
      { vendor: 'NVIDIA Corporation', model: 'NVIDIA H100 80GB HBM3', vram_bytes: 81559 * 1024 * 1024 },
    ])
  })

  it('falls back to lspci VRAM, and to 0 when nothing is known', () => {
    const gpus = gpusFromControllers([
      controller({ vendor: 'AMD', model: 'Radeon', vram: 512 }),
      controller({ vendor: '', model: 'Virtio GPU' }),
    ])
    expect(gpus).toEqual([
      { vendor: 'AMD', model: 'Radeon', vram_bytes: 512 * 1024 * 1024 },
      { vendor: 'unknown', model: 'Virtio GPU', vram_bytes: 0 },
    ])
  })

  it('skips controllers without a model', () => {
    expect(gpusFromControllers([controller({ vendor: 'X' })])).toEqual([])
  })
})
