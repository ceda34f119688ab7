/**
 * Builds the node's services in the order their needs give (./service-plan.ts), each handed only the
 * components it named; answers them with the ones that run, in that order (started so, stopped in
 * reverse). A build that fails stops what already runs (the `open` ones) before it rethrows.
 */
import { type Startable, stopAll } from '../interface/startable.ts'
import type { Components, Given, ServiceFactories, ServiceFactory } from './components.ts'
import { planServices } from './service-plan.ts'

export interface BuiltNode {
  components: Components
  /** In build order: started so, stopped in reverse. */
  running: Startable[]
}

export async function buildServices(factories: ServiceFactories, given: Given): Promise<BuiltNode> {
  const table = factories as Record<string, ServiceFactory<unknown>>
  const order = planServices(
    Object.entries(table).map(([name, { needs }]) => ({ name, needs })),
    Object.keys(given),
  )
  const built: Record<string, unknown> = { ...given }
  const running: Startable[] = []
  const opened: Startable[] = []
  try {
    for (const name of order) {
      const { needs, build, runs } = table[name]!
      const value = await build(
        Object.fromEntries(needs.map((need) => [need, built[need]])) as unknown as Components,
      )
      built[name] = value
      if (runs === undefined || value === null) continue
      const stoppable = value as Startable
      if (
        typeof stoppable.stop !== 'function' ||
        (runs === 'started' && typeof stoppable.start !== 'function')
      )
        throw new TypeError(
          `the node's ${name} is declared ${runs} but cannot be ${runs === 'open' ? 'stopped' : 'started'}`,
        )
      if (runs === 'started') {
        running.push(stoppable)
        continue
      }
      // Running already: as a service it only needs stopping.
      const open = { start: async () => {}, stop: () => stoppable.stop() }
      running.push(open)
      opened.push(open)
    }
  } catch (err) {
    // Nothing is started yet: what runs is what was opened while building.
    await stopAll(opened)
    throw err
  }
  return { components: built as unknown as Components, running }
}
