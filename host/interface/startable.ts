/** A service the daemon starts and stops; `stop` must be safe to call after a failed `start`. */
export interface Startable {
  start(): Promise<void>
  stop(): Promise<void>
}

/**
 * Starts services in order. When one fails, those already started are stopped (in reverse)
 * before the error is rethrown, so a failed start leaves no timers or sockets behind.
 */
export async function startAll(services: readonly Startable[]): Promise<void> {
  const started: Startable[] = []
  try {
    for (const service of services) {
      await service.start()
      started.push(service)
    }
  } catch (err) {
    await stopAll(started)
    throw err
  }
}

/** Stops services in reverse order; every service gets its stop even when an earlier one throws. */
export async function stopAll(services: readonly Startable[]): Promise<void> {
  const errors: unknown[] = []
  for (const service of [...services].reverse()) {
    try {
      await service.stop()
    } catch (err) {
      errors.push(err)
    }
  }
  if (errors.length > 0) throw new AggregateError(errors, 'some services failed to stop')
}
