/**
 * The backends' table read as the engine reads it: the candidates in its order, each unavailable for
 * the device it needs or the library it lacks, and a backend built here listed only once built.
 */
import { describe, expect, it } from 'vitest'
import { backendCandidates } from '../../../host/inference/engine/backend-dir.ts'
import { BACKENDS, BUILDABLE_GPUS, backendSpec } from '../../../host/inference/engine/backend-table.ts'
import { type EngineBuild, prebuiltDir } from '../../../host/inference/engine/engine-build.ts'

const build = (builtCudaDir: string | null): EngineBuild => ({
  commit: '0123456789ab',
  root: '/nonexistent',
  binDir: '/nonexistent/bin',
  builtCudaDir,
  id: '0123456789ab/rpc0.0.0',
})

describe("the engine backends' table", () => {
  it('lists the candidates in its order, the CPU last, a backend built here only once built', () => {
    const none = { nvidia: false, vulkan: false }
    expect(backendCandidates(build(null), none).map((c) => c.id)).toEqual([
      'cuda-prebuilt',
      'vulkan-prebuilt',
      'cpu',
    ])
    expect(backendCandidates(build('/built/cuda'), none).map((c) => c.id)).toEqual(BACKENDS.map((b) => b.id))
  })

  it('says a candidate is unavailable without its device, else without its library', () => {
    const byId = (devices: { nvidia: boolean; vulkan: boolean }) =>
      Object.fromEntries(backendCandidates(build('/built/cuda'), devices).map((c) => [c.id, c.unavailable]))
    expect(byId({ nvidia: false, vulkan: false })).toEqual({
      'cuda-built': 'no NVIDIA GPU found',
      'cuda-prebuilt': 'no NVIDIA GPU found',
      'vulkan-prebuilt': 'no Vulkan device found',
      cpu: null,
    })
    const present = byId({ nvidia: true, vulkan: true })
    expect(present['cuda-built']).toBeNull()
    expect(present['cuda-prebuilt']).toBe(
      prebuiltDir('cuda') ? null : "node-llama-cpp's CUDA binaries are not installed",
    )
    expect(present['vulkan-prebuilt']).toBe(
      prebuiltDir('vulkan') ? null : "node-llama-cpp's Vulkan binaries are not installed",
    )
  })

  it("names what the build script builds and each GPU backend's self-test device", () => {
    expect(BUILDABLE_GPUS).toEqual(['cuda'])
    expect(backendSpec('cuda-prebuilt').selfTestDevice?.test('  CUDA0: NVIDIA H100')).toBe(true)
    expect(backendSpec('vulkan-prebuilt').selfTestDevice?.test('  Vulkan0: AMD')).toBe(true)
    expect(backendSpec('cpu').selfTestDevice).toBeNull()
    expect(() => backendSpec('metal')).toThrow('no engine backend metal')
  })
})
