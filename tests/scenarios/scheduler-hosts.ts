/**
 * Scheduler hosts over harness players: each player gets what the daemon gives a peer (policy
 * service, worker registry, scheduler woken by replication) and advertises a capability. Every worker
 * run is logged with the host that ran it, so scenarios can count executions per task input.
 */

import type { ConductorPort } from '../../host/interface/conductor-port.ts'
import { silentLogger } from '../../host/log/logger.ts'
import { PolicyService } from '../../host/policy/policy-service.ts'
import { type SchedulerInit, SchedulerService } from '../../host/scheduler/scheduler-service.ts'
import type { Worker } from '../../host/workers/worker.ts'
import { WorkerRegistry } from '../../host/workers/worker-registry.ts'
import type { NodeCapability } from '../../zomes-bindings/index.ts'
import { capability } from '../unit/conductor/fixtures/capability.ts'

export interface RunLog {
  /** One entry per worker run: who ran which input. */
  runs: { host: string; input: unknown }[]
}

export interface SchedulerHost {
  name: string
  agent: string
  scheduler: SchedulerService
  policies: PolicyService
  stop(): Promise<void>
}

export interface HostOptions {
  name: string
  /** Run the built-in workers (default) or none (a requester only). */
  workers?: boolean
  /** Workers beyond the built-ins (e.g. inference), logged alike. */
  extraWorkers?: readonly Worker[]
  capability?: Partial<NodeCapability>
  log: RunLog
  timing?: Pick<SchedulerInit, 'pollMs' | 'claimWindowMs' | 'leaseGraceMs'>
  /** IPFS for large inputs and outputs (none by default). */
  payloads?: SchedulerInit['payloads']
  /** Agents never given work (the daemon bars revoked ones). */
  barred?: SchedulerInit['barred']
}

/** What a scheduler host needs of a player (a harness Player gives it on either backend). */
export interface HostPeer {
  port: ConductorPort
  onRecordsStored: SchedulerInit['onRecordsStored']
}

/** Starts a scheduler host on a running peer. */
export async function startSchedulerHost(peer: HostPeer, options: HostOptions): Promise<SchedulerHost> {
  const conductor = peer.port
  const advertised = capability({ name: options.name, ...options.capability })
  await conductor.callZome('agent_registry', 'advertise_capability', advertised)
  const policies = new PolicyService({ conductor, cacheMs: 100, logger: silentLogger() })
  const workers =
    options.workers === false
      ? new WorkerRegistry()
      : loggedBuiltins(options.name, options.log, options.extraWorkers)
  const scheduler = new SchedulerService({
    conductor,
    workers,
    policies,
    capability: () => advertised,
    onRecordsStored: peer.onRecordsStored,
    pollMs: 100,
    claimWindowMs: 100,
    leaseGraceMs: 100,
    ...options.timing,
    payloads: options.payloads,
    barred: options.barred,
    logger: silentLogger(),
  })
  await scheduler.start()
  return {
    name: options.name,
    agent: conductor.agentPubKey,
    scheduler,
    policies,
    stop: () => scheduler.stop(),
  }
}

function loggedBuiltins(host: string, log: RunLog, extra: readonly Worker[] = []): WorkerRegistry {
  const builtins = WorkerRegistry.withBuiltins(extra)
  const logged = new WorkerRegistry()
  for (const kind of builtins.kinds()) {
    const worker = builtins.get(kind)!
    const counted: Worker = {
      ...worker,
      run: (input, ctx) => {
        log.runs.push({ host, input })
        return worker.run(input, ctx)
      },
    }
    logged.register(counted)
  }
  return logged
}
