/** The look every page shares: readable type, calm colours, status colours that also carry a word. */
import { css } from 'lit'

export const shared = css`
  :host {
    display: block;
    color: #1d2433;
    font: 15px/1.5 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif;
  }
  h2 {
    font-size: 20px;
    margin: 0 0 4px;
  }
  h3 {
    font-size: 16px;
    margin: 0 0 8px;
  }
  p.lead {
    margin: 0 0 16px;
    color: #4a5468;
  }
  code,
  .mono {
    font-family: ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace;
    font-size: 13px;
  }
  .card {
    background: #fff;
    border: 1px solid #dde2ea;
    border-radius: 10px;
    padding: 16px;
    margin-bottom: 16px;
  }
  .grid {
    display: grid;
    grid-template-columns: repeat(auto-fill, minmax(320px, 1fr));
    gap: 16px;
  }
  .muted {
    color: #5b6478;
  }
  .empty {
    border: 1px dashed #b8c0ce;
    border-radius: 10px;
    padding: 20px;
    background: #f7f9fc;
    color: #3a4356;
  }
  .badge {
    display: inline-block;
    padding: 1px 8px;
    border-radius: 999px;
    font-size: 12px;
    font-weight: 600;
    background: #eef1f6;
    color: #334;
    margin: 0 4px 4px 0;
  }
  .badge.online,
  .badge.done,
  .badge.loaded,
  .badge.agree {
    background: #dcf5e4;
    color: #12602e;
  }
  .badge.stale,
  .badge.submitted,
  .badge.claimed,
  .badge.assigned,
  .badge.running {
    background: #fff1cc;
    color: #7a4b00;
  }
  .badge.offline,
  .badge.failed,
  .badge.expired,
  .badge.cancelled,
  .badge.warrant,
  .badge.disagree {
    background: #fde0e0;
    color: #9b1c1c;
  }
  table {
    border-collapse: collapse;
    width: 100%;
  }
  th,
  td {
    text-align: left;
    padding: 6px 10px 6px 0;
    border-bottom: 1px solid #edf0f5;
    vertical-align: top;
  }
  th {
    font-size: 12px;
    text-transform: uppercase;
    letter-spacing: 0.04em;
    color: #5b6478;
  }
  button {
    font: inherit;
    padding: 6px 14px;
    border-radius: 8px;
    border: 1px solid #2f5bd3;
    background: #2f5bd3;
    color: #fff;
    cursor: pointer;
  }
  button.secondary {
    background: #fff;
    color: #2f5bd3;
  }
  button:disabled {
    opacity: 0.5;
    cursor: default;
  }
  input,
  select,
  textarea {
    font: inherit;
    padding: 6px 8px;
    border: 1px solid #c5ccd8;
    border-radius: 8px;
    background: #fff;
    color: inherit;
  }
  label {
    display: inline-flex;
    flex-direction: column;
    gap: 4px;
    font-size: 13px;
    color: #4a5468;
    margin-right: 12px;
  }
  .error {
    color: #9b1c1c;
    background: #fde0e0;
    border-radius: 8px;
    padding: 8px 12px;
  }
  /* What works but wants a person's attention (two releases that differ), not what failed. */
  .notice {
    color: #7a4b00;
    background: #fdf0d5;
    border-radius: 8px;
    padding: 8px 12px;
  }
  .row {
    display: flex;
    gap: 12px;
    align-items: flex-end;
    flex-wrap: wrap;
  }
  progress {
    width: 160px;
  }
`
