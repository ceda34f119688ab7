/**
 * Usage: what this peer served each member and was served by each runner, from the leaves it signed
 * (GET /api/usage): tokens per hour as a chart, the totals by member, key and model, and this peer's
 * own requests by the coding agent's session that asked (`by=session`), when any named one.
 */
import { css, html, nothing, svg } from 'lit'
import type { SessionUsageView, UsageRowView } from '../../../host/api/contract/index.ts'
import { LivePage } from '../live-page.ts'
import { shared } from '../styles.ts'
import { type HourBar, hourlyTokens } from '../usage-series.ts'

const REFRESH_MS = 30_000
const [W, H] = [640, 160]

export class UsagePage extends LivePage {
  static override properties = {
    ...LivePage.properties,
    rows: { state: true },
    sessions: { state: true },
    error: { state: true },
  }
  declare rows: UsageRowView[] | null
  declare sessions: SessionUsageView[]
  declare error: string | null
  #timer: ReturnType<typeof setInterval> | undefined

  constructor() {
    super()
    this.rows = null
    this.sessions = []
    this.error = null
  }

  static override styles = [
    shared,
    css`
      .served { fill: #3b7dd8; }
      .used { fill: #e39b2d; }
      svg { width: 100%; max-width: ${W}px; height: auto; }
    `,
  ]

  override connectedCallback(): void {
    super.connectedCallback()
    void this.#refresh()
    this.#timer = setInterval(() => void this.#refresh(), REFRESH_MS)
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    clearInterval(this.#timer)
  }

  async #refresh(): Promise<void> {
    const client = this.store?.client
    if (!client) return
    try {
      const usage = await client.usage(Date.now() - 24 * 3_600_000, { by: 'session' })
      this.rows = usage.rows
      this.sessions = usage.sessions ?? []
      this.error = null
    } catch (err) {
      this.error = (err as Error).message
    }
  }

  override render() {
    const rows = this.rows ?? []
    return html`
      <h2>Usage</h2>
      <p class="lead">The last 24 hours, from the records this peer signed: tokens it
        <span class="muted">served to</span> others (blue) and was served by others (orange).</p>
      ${this.error ? html`<p class="error">${this.error}</p>` : nothing}
      <section class="card">${rows.length === 0 ? html`<p class="muted">No usage recorded yet.</p>` : this.#chart(hourlyTokens(rows))}</section>
      <section class="card">
        <table>
          <thead><tr><th>Direction</th><th>Member</th><th>Key</th><th>Model</th><th>Requests</th><th>Tokens in</th><th>Out</th><th>Reasoning</th><th>Busy</th></tr></thead>
          <tbody>${rows.map(
            (r) => html`<tr>
              <td>${r.direction === 'served' ? 'served to' : 'served by'}</td><td>${this.peerName(r.member)}</td>
              <td>${r.key ?? '-'}</td><td>${r.model}</td><td>${r.requests}</td><td>${r.tokens_in}</td>
              <td>${r.tokens_out}</td><td>${r.reasoning_tokens}</td><td>${r.busy_s.toFixed(1)} s</td>
            </tr>`,
          )}</tbody>
        </table>
      </section>
      ${this.sessions.length === 0 ? nothing : this.#sessionTable(this.sessions)}
    `
  }

  #sessionTable(sessions: SessionUsageView[]) {
    return html`<section class="card">
      <h3>By agent session</h3>
      <table>
        <thead><tr><th>Session</th><th>Key</th><th>Models</th><th>Requests</th><th>Failed</th><th>Tokens in</th><th>Out</th><th>Last hour</th></tr></thead>
        <tbody>${sessions.map(
          (s) => html`<tr>
            <td>${s.session}</td><td>${s.key ?? '-'}</td><td>${s.models.join(', ')}</td><td>${s.requests}</td>
            <td>${s.failed}</td><td>${s.tokens_in}</td><td>${s.tokens_out}</td><td>${s.last_hour.slice(11, 16)}</td>
          </tr>`,
        )}</tbody>
      </table>
    </section>`
  }

  #chart(bars: HourBar[]) {
    const top = Math.max(1, ...bars.map((b) => b.served + b.used))
    // A day of hours across, at least: one hour is not the whole width.
    const step = W / Math.max(bars.length, 24)
    return html`<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="tokens per hour">
      ${bars.map((b, i) => {
        const [hs, hu] = [(b.served / top) * H, (b.used / top) * H]
        return svg`<g><title>${b.hour}: ${b.served} served, ${b.used} used</title>
          <rect class="served" x=${i * step + 2} y=${H - hs} width=${step - 4} height=${hs}></rect>
          <rect class="used" x=${i * step + 2} y=${H - hs - hu} width=${step - 4} height=${hu}></rect></g>`
      })}
    </svg>`
  }
}

customElements.define('usage-page', UsagePage)
