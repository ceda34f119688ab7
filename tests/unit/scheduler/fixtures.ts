/** Hosts for scheduler tests: a conductor of a test mesh with its policy service, workers and scheduler. */
import { afterEach } from 'vitest'
import type { EmbeddedConductor } from '../../../host/conductor/embedded/index.ts'
import { encodeHashB64, type HoloHashKind, holoHashFrom32 } from '../../../host/identity/hash.ts'
import { payloadBytes, payloadHash } from '../../../host/identity/payload-hash.ts'
import { silentLogger } from '../../../host/log/logger.ts'
import { PolicyService } from '../../../host/policy/policy-service.ts'
import {
  type SchedulerInit,
  SchedulerService,
  type TaskOrder,
} from '../../../host/scheduler/scheduler-service.ts'
import { WorkerRegistry } from '../../../host/workers/worker-registry.ts'
import type {
  Assignment,
  EntryRecord,
  NodeCapability,
  Task,
  TaskResult,
  TaskState,
} from '../../../zomes-bindings/index.ts'
import { capability } from '../conductor/fixtures/capability.ts'
import { type Mesh, openMesh } from '../conductor/fixtures/mesh-conductors.ts'

export interface TestHost {
  conductor: EmbeddedConductor
  policies: PolicyService
  scheduler: SchedulerService
  workers: WorkerRegistry
}

export function testHost(
  conductor: EmbeddedConductor,
  options: {
    workers?: WorkerRegistry
    capability?: NodeCapability
    onRecordsStored?: SchedulerInit['onRecordsStored']
    polling?: () => boolean
    sharded?: SchedulerInit['sharded']
    walkMax?: SchedulerInit['walkMax']
  } = {},
): TestHost {
  const policies = new PolicyService({ conductor, cacheMs: 50, logger: silentLogger() })
  const workers = options.workers ?? WorkerRegistry.withBuiltins()
  const scheduler = new SchedulerService({
    conductor,
    workers,
    policies,
    capability: () => options.capability ?? capability(),
    onRecordsStored: options.onRecordsStored,
    polling: options.polling,
    sharded: options.sharded,
    walkMax: options.walkMax,
    pollMs: 50,
    claimWindowMs: 50,
    leaseGraceMs: 50,
    declineMs: 200,
    logger: silentLogger(),
  })
  return { conductor, policies, scheduler, workers }
}

/**
 * For a test file whose tests open a mesh and start hosts on it: registers an afterEach that stops every
 * scheduler in `hosts` and closes every mesh `openMesh` opened, so a failed test leaves nothing running.
 */
export function meshPerTest(): { openMesh: typeof openMesh; hosts: TestHost[] } {
  const meshes: Mesh[] = []
  const hosts: TestHost[] = []
  afterEach(async () => {
    await Promise.all(hosts.splice(0).map((h) => h.scheduler.stop()))
    await Promise.all(meshes.splice(0).map((m) => m.close()))
  })
  return {
    openMesh: async (...args) => {
      const mesh = await openMesh(...args)
      meshes.push(mesh)
      return mesh
    },
    hosts,
  }
}

/** A task order and its input, as `scheduler.submit(...order())` takes them. */
export function order(overrides: Partial<TaskOrder> & { input?: unknown } = {}): [TaskOrder, unknown] {
  const { input = { data: 'hello' }, ...rest } = overrides
  return [
    {
      kind: 'sha256',
      requirements: { min_ram_bytes: 0, min_vram_bytes: 0, gpu: false, min_cores: 1, model: null, tags: [] },
      lease_ms: 5_000,
      deadline: (Date.now() + 30_000) * 1000,
      max_attempts: 3,
      fan_out: 1,
      ...rest,
    },
    input,
  ]
}

/** A Task as the mesh holds it (its input's hash and size), for zome calls. */
export function task(overrides: Partial<Task> & { input?: unknown } = {}): Task {
  const [taskOrder, input] = order(overrides)
  const { input_hash, input_bytes, input_cid } = overrides
  return {
    input_hash: input_hash ?? payloadHash(input),
    input_bytes: input_bytes ?? payloadBytes(input).length,
    input_cid: input_cid ?? null,
    ...taskOrder,
  }
}

/** `task`'s state as just submitted (no claims, attempts, Results, receipt or cancellation), `parts` set over it. */
export function taskState(task: EntryRecord<Task>, parts: Partial<TaskState> = {}): TaskState {
  return {
    task,
    claims: [],
    assignments: [],
    results: [],
    receipt: null,
    cancellation: null,
    status: 'submitted',
    ...parts,
  }
}

/** Polls until `check` returns a value that is not undefined. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/** A hash of `kind` whose 32 bytes are all `n`: a stable, valid name for a test's agents and records. */
export const fixedHash = (n: number, kind: HoloHashKind) =>
  encodeHashB64(holoHashFrom32(new Uint8Array(32).fill(n), kind))

/** An ok Result of `task`'s `assignment`, naming `output` by hash, run at `at` (microseconds). */
export function okResultEntry(task: string, assignment: string, output: unknown, at: number): TaskResult {
  return {
    task,
    assignment,
    status: 'ok',
    output_cid: null,
    output_hash: payloadHash(output),
    error: null,
    metrics: {
      started_at: at,
      finished_at: at,
      duration_ms: 1,
      tokens_in: null,
      tokens_out: null,
      tokens_per_second: null,
    },
  }
}

/** The ok Result of `attempt` by its assignee, naming `output` by hash, written at `at` (microseconds). */
export function okResult(
  attempt: EntryRecord<Assignment>,
  output: unknown,
  at: number,
): EntryRecord<TaskResult> {
  return {
    action_hash: fixedHash(40, 'action'),
    author: attempt.entry.assignee,
    timestamp: at,
    entry: okResultEntry(attempt.entry.task, attempt.action_hash, output, at),
  }
}
