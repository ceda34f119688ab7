import { describe, expect, it } from 'vitest'
import {
  type BackendCandidate,
  type BackendVerdict,
  describeBackends,
  fixFor,
  planBackend,
} from '../../../host/inference/engine/backend-plan.ts'

const cudaBuilt: BackendCandidate = { id: 'cuda-built', kind: 'cuda', unavailable: null }
const cuda: BackendCandidate = { id: 'cuda-prebuilt', kind: 'cuda', unavailable: null }
const vulkan: BackendCandidate = { id: 'vulkan-prebuilt', kind: 'vulkan', unavailable: null }
const cpu: BackendCandidate = { id: 'cpu', kind: 'cpu', unavailable: null }
const at = '2026-11-23T00:00:00.000Z'
const ok: BackendVerdict = { ok: true, checkedAt: at }
const ptx: BackendVerdict = {
  ok: false,
  error:
    'llama-server was killed by SIGABRT: CUDA error: the provided PTX was compiled with an unsupported toolchain.',
  checkedAt: at,
}
const verdicts = (entries: [string, BackendVerdict][]) => new Map(entries)

describe('planBackend', () => {
  it.each([
    {
      case: 'no GPU: the CPU, and the GPU backends said to be unavailable',
      candidates: [
        { ...cuda, unavailable: 'no NVIDIA GPU found' },
        { ...vulkan, unavailable: 'no Vulkan device found' },
        cpu,
      ],
      known: [],
      chosen: 'cpu',
      states: ['not available', 'not available', 'in use'],
    },
    {
      case: 'a CUDA backend that passed is used; the rest stand by untried',
      candidates: [cuda, vulkan, cpu],
      known: [['cuda-prebuilt', ok]] as [string, BackendVerdict][],
      chosen: 'cuda-prebuilt',
      states: ['in use', 'standby', 'standby'],
    },
    {
      case: 'the prebuilt CUDA failed: Vulkan, once it passed',
      candidates: [cuda, vulkan, cpu],
      known: [
        ['cuda-prebuilt', ptx],
        ['vulkan-prebuilt', ok],
      ] as [string, BackendVerdict][],
      chosen: 'vulkan-prebuilt',
      states: ['failed', 'in use', 'standby'],
    },
    {
      case: 'every GPU backend failed: the CPU',
      candidates: [cuda, vulkan, cpu],
      known: [
        ['cuda-prebuilt', ptx],
        ['vulkan-prebuilt', { ok: false, error: 'no device', checkedAt: at }],
      ] as [string, BackendVerdict][],
      chosen: 'cpu',
      states: ['failed', 'failed', 'in use'],
    },
    {
      case: 'a CUDA backend built here is preferred to the prebuilt one that failed',
      candidates: [cudaBuilt, cuda, vulkan, cpu],
      known: [
        ['cuda-built', ok],
        ['cuda-prebuilt', ptx],
      ] as [string, BackendVerdict][],
      chosen: 'cuda-built',
      states: ['in use', 'failed', 'standby', 'standby'],
    },
  ])('$case', ({ candidates, known, chosen, states }) => {
    const plan = planBackend(candidates, verdicts(known), { nvcc: false })
    if ('needsProbe' in plan) throw new Error('asked for a probe')
    expect(plan.chosen.id).toBe(chosen)
    expect(plan.reports.map((r) => r.state)).toEqual(states)
  })

  it('asks for the probe of the first GPU backend without a verdict, before choosing', () => {
    expect(planBackend([cuda, vulkan, cpu], verdicts([]), { nvcc: false })).toEqual({ needsProbe: cuda })
    expect(planBackend([cuda, vulkan, cpu], verdicts([['cuda-prebuilt', ptx]]), { nvcc: false })).toEqual({
      needsProbe: vulkan,
    })
  })

  it('says what would fix a failed backend: the driver or the toolkit for CUDA, the driver for Vulkan', () => {
    expect(fixFor(cuda, ptx.ok ? '' : ptx.error, { nvcc: true })).toMatch(
      /^update the NVIDIA driver, or run `ripple engine build --gpu cuda`/,
    )
    expect(fixFor(cuda, 'out of memory', { nvcc: false })).toMatch(/^install the CUDA toolkit \(nvcc\)/)
    expect(fixFor(vulkan, 'no device', { nvcc: false })).toMatch(/Vulkan driver/)
    expect(fixFor(cpu, 'x', { nvcc: false })).toBeNull()
  })

  it('describes the choice in one line: the backend in use and why the others are not', () => {
    const plan = planBackend(
      [cuda, vulkan, cpu],
      verdicts([
        ['cuda-prebuilt', ptx],
        ['vulkan-prebuilt', ok],
      ]),
      {
        nvcc: true,
      },
    )
    if ('needsProbe' in plan) throw new Error('asked for a probe')
    expect(describeBackends(plan)).toMatch(
      /^engine backend: vulkan-prebuilt; cuda-prebuilt failed: .*unsupported toolchain\. \(fix: update the NVIDIA driver/,
    )
  })
})
