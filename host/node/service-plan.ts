/**
 * The order a node's services are built in, derived from what each declares it needs (as js-libp2p
 * derives its services' order from their `serviceDependencies`): each comes after what it needs, and
 * otherwise in the order declared. It is also the start order; stops run in reverse. A circle of needs,
 * or a need nothing provides, is an error naming the chain. Pure.
 */

export interface DeclaredService {
  name: string
  needs: readonly string[]
}

export class ServicePlanError extends Error {
  static override readonly name = 'ServicePlanError'
  constructor(message: string) {
    super(message)
    this.name = 'ServicePlanError'
  }
}

/** The services by name, each after its needs; `given` are there before any is built. */
export function planServices(services: readonly DeclaredService[], given: readonly string[] = []): string[] {
  const byName = new Map<string, DeclaredService>()
  for (const service of services) {
    if (byName.has(service.name) || given.includes(service.name))
      throw new ServicePlanError(`${service.name} is provided twice`)
    byName.set(service.name, service)
  }
  const order: string[] = []
  const placed = new Set(given)
  const visit = (name: string, chain: readonly string[]): void => {
    if (placed.has(name)) return
    const service = byName.get(name)
    if (service === undefined) {
      const [needer] = chain.slice(-1)
      throw new ServicePlanError(
        `${[...chain, name].join(' -> ')}: ${needer} needs ${name}, which nothing provides`,
      )
    }
    if (chain.includes(name)) {
      const circle = [...chain.slice(chain.indexOf(name)), name]
      throw new ServicePlanError(`a circle of needs: ${circle.join(' -> ')}`)
    }
    for (const need of service.needs) visit(need, [...chain, name])
    placed.add(name)
    order.push(name)
  }
  for (const service of services) visit(service.name, [])
  return order
}
