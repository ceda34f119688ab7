/**
 * The one live stream (GET /api/events through the typed client) and what it last said. Pages
 * subscribe and re-render on each change; nothing polls. A dropped stream is reopened after a pause.
 */
import type { ApiClient } from '../../host/api/client/index.ts'
import type { ArtifactView, LiveEvent, ModelsView, StatusView } from '../../host/api/contract/index.ts'

type Data<K extends LiveEvent['event']> = Extract<LiveEvent, { event: K }>['data']

export class LiveStore extends EventTarget {
  status: StatusView | null = null
  peers: Data<'peers'> | null = null
  tasks: Data<'tasks'>['tasks'] | null = null
  models: ModelsView | null = null
  /** Null until the daemon says; stays null where it runs without artifacts. */
  artifacts: Data<'artifacts'>['artifacts'] | null = null
  connected = false
  /** What this tab signed in with; null until the daemon said. */
  #abort = new AbortController()

  constructor(readonly client: ApiClient) {
    super()
  }

  start(): void {
    void this.#run()
  }

  stop(): void {
    this.#abort.abort()
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal
    while (!signal.aborted) {
      try {
        this.status = await this.client.status({ signal })
        for await (const event of this.client.liveEvents({ signal })) {
          this.connected = true
          if (event.event === 'peers') this.peers = event.data
          else if (event.event === 'tasks') this.tasks = event.data.tasks
          else if (event.event === 'artifacts') this.artifacts = event.data.artifacts
          else this.models = event.data
          this.#changed()
        }
      } catch (err) {
        // The daemon restarted or the network blinked: say so, then reopen the stream.
        if (!signal.aborted) console.warn('ripple: the live stream stopped:', err)
      }
      this.connected = false
      this.#changed()
      await new Promise((resolve) => setTimeout(resolve, 2000))
    }
  }

  /**
   * An artifact as this peer just answered for it (a pin or a release here): shown at once, not at the
   * feed's next look, which says the same once it sees the change.
   */
  putArtifact(view: ArtifactView): void {
    if (this.artifacts === null) return
    const cid = view.artifact.entry.cid
    this.artifacts = this.artifacts.map((a) => (a.artifact.entry.cid === cid ? view : a))
    this.#changed()
  }

  #changed(): void {
    this.dispatchEvent(new Event('change'))
  }
}
