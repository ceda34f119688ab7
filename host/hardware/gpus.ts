import type { Systeminformation } from 'systeminformation'
import type { Gpu } from '../../zomes-bindings/index.ts'

const MIB = 1024 * 1024

/**
 * GPUs as the contract describes them. systeminformation fills `memoryTotal` (MiB) from
 * nvidia-smi for NVIDIA cards, which is the figure CUDA allocates against; `vram` (MiB, from
 * lspci) is the fallback for other vendors. A controller with no known VRAM reports 0 bytes rather
 * than a guess, so a scheduler never sends work to memory that is not there.
 */
export function gpusFromControllers(controllers: readonly Systeminformation.GraphicsControllerData[]): Gpu[] {
  return controllers
    .filter((c) => c.model.trim() !== '' || (c.name ?? '').trim() !== '')
    .map((c) => ({
      vendor: c.vendor.trim() || 'unknown',
      model: (c.name ?? c.model).trim() || c.model.trim(),
      vram_bytes: Math.round((c.memoryTotal ?? c.vram ?? 0) * MIB),
    }))
}
