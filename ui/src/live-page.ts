/** A page that re-renders whenever the live stream brings something new. */
import { LitElement } from 'lit'
import type { LiveStore } from './live-store.ts'

export class LivePage extends LitElement {
  static override properties = { store: { attribute: false } }
  declare store: LiveStore | null

  constructor() {
    super()
    this.store = null
  }
  readonly #onChange = () => this.requestUpdate()

  override updated(changed: Map<PropertyKey, unknown>): void {
    if (changed.has('store')) {
      ;(changed.get('store') as LiveStore | null | undefined)?.removeEventListener('change', this.#onChange)
      this.store?.addEventListener('change', this.#onChange)
    }
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    this.store?.removeEventListener('change', this.#onChange)
  }

  override connectedCallback(): void {
    super.connectedCallback()
    this.store?.addEventListener('change', this.#onChange)
  }

  /** A peer's advertised name, or its key shortened. */
  peerName(agent: string): string {
    const peer = this.store?.peers?.peers.find((p) => p.agent === agent)
    return peer?.name ?? `${agent.slice(0, 12)}…`
  }
}
