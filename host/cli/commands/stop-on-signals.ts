/** Graceful stop of a long-running command (`ripple up`, `ripple relay`). */

/** First SIGINT/SIGTERM stops gracefully; a second one while stopping exits at once. */
export function stopOnSignals(stop: () => Promise<void>): void {
  let stopping = false
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130)
    stopping = true
    process.stdout.write(`ripple: ${signal}, stopping\n`)
    stop().then(
      () => {
        process.stdout.write('ripple: stopped\n')
        process.exit(0)
      },
      (err: unknown) => {
        process.stderr.write(`ripple: stop failed: ${(err as Error).message}\n`)
        process.exit(1)
      },
    )
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
}
