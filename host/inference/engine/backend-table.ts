/**
 * Every backend the engine can run on, in order of preference (the CPU last): adding one is an entry
 * here (and, for one built here, a `build_<gpu>` function in scripts/build-engine.sh). The rest reads
 * this table: the candidates and their libraries (backend-dir.ts), the self-test (backend-probe.ts),
 * the kinds the choice knows (backend-plan.ts) and `ripple engine build --gpu`'s choices.
 */

/** Where a backend's library comes from: built here by the build script, or node-llama-cpp's prebuilt. */
export type BackendSource =
  | { from: 'built'; gpu: string }
  | { from: 'prebuilt'; flavour: 'cuda' | 'vulkan'; missing: string }

export interface BackendSpec {
  id: string
  kind: string
  /** The device it needs (none: the CPU). */
  device: 'nvidia' | 'vulkan' | null
  /** The backend library it adds to the build's own (none: the CPU variants only). */
  library: string | null
  /** None: the CPU variants the build folder always has. */
  source: BackendSource | null
  /** What `llama-server --list-devices` prints when the self-test finds a device of this backend. */
  selfTestDevice: RegExp | null
}

export const BACKENDS = [
  {
    id: 'cuda-built',
    kind: 'cuda',
    device: 'nvidia',
    library: 'libggml-cuda.so',
    // `ripple engine build --gpu cuda` (scripts/build-engine.sh's build_cuda: -DGGML_CUDA=ON).
    source: { from: 'built', gpu: 'cuda' },
    selfTestDevice: /\bCUDA\d+\b/,
  },
  {
    id: 'cuda-prebuilt',
    kind: 'cuda',
    device: 'nvidia',
    library: 'libggml-cuda.so',
    source: {
      from: 'prebuilt',
      flavour: 'cuda',
      missing: "node-llama-cpp's CUDA binaries are not installed",
    },
    selfTestDevice: /\bCUDA\d+\b/,
  },
  {
    id: 'vulkan-prebuilt',
    kind: 'vulkan',
    device: 'vulkan',
    library: 'libggml-vulkan.so',
    source: {
      from: 'prebuilt',
      flavour: 'vulkan',
      missing: "node-llama-cpp's Vulkan binaries are not installed",
    },
    selfTestDevice: /\bVulkan\d+\b/,
  },
  { id: 'cpu', kind: 'cpu', device: null, library: null, source: null, selfTestDevice: null },
] as const satisfies readonly BackendSpec[]

export type BackendKind = (typeof BACKENDS)[number]['kind']

/** The backend of a candidate's id (the table's entries are the only candidates). */
export function backendSpec(id: string): BackendSpec {
  const spec = BACKENDS.find((b) => b.id === id)
  if (!spec) throw new Error(`no engine backend ${id}`)
  return spec
}

/** The GPU backends the build script can build here (`--gpu <it>`). */
export const BUILDABLE_GPUS = BACKENDS.flatMap((b) => (b.source?.from === 'built' ? [b.source.gpu] : []))
