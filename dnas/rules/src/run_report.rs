//! What a run reports on record, the same for a task's Result and a direct Answer: whether it ran, its
//! metrics (times and tokens) and its usage, each within the limits.
use serde::Deserialize;

use crate::check::{nullable, Ck};
use crate::input::Verdict;
use crate::limits::*;

#[derive(Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Status {
    Ok,
    Error,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Metrics {
    started_at: u64,
    finished_at: u64,
    duration_ms: u64,
    #[serde(deserialize_with = "nullable")]
    tokens_in: Option<u64>,
    #[serde(deserialize_with = "nullable")]
    tokens_out: Option<u64>,
    #[serde(deserialize_with = "nullable")]
    tokens_per_second: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Usage {
    duration_ms: u64,
    #[serde(deserialize_with = "nullable")]
    tokens: Option<u64>,
    output_bytes: u64,
}

pub(crate) fn metrics(ck: &Ck, m: &Metrics) -> Verdict {
    ck.int("metrics.started_at", m.started_at, TIMESTAMP)?;
    ck.int("metrics.finished_at", m.finished_at, TIMESTAMP)?;
    ck.rule("metrics_order", m.finished_at >= m.started_at, || {
        "metrics.finished_at must not be before metrics.started_at".into()
    })?;
    ck.int("metrics.duration_ms", m.duration_ms, DURATION_MS)?;
    ck.opt_int("metrics.tokens_in", m.tokens_in, RESULT_TOKENS)?;
    ck.opt_int("metrics.tokens_out", m.tokens_out, RESULT_TOKENS)?;
    ck.opt_num("metrics.tokens_per_second", m.tokens_per_second, RESULT_TOKENS_PER_SECOND)
}

pub(crate) fn usage(ck: &Ck, u: &Usage) -> Verdict {
    ck.int("usage.duration_ms", u.duration_ms, DURATION_MS)?;
    ck.opt_int("usage.tokens", u.tokens, RESULT_TOKENS)?;
    ck.int("usage.output_bytes", u.output_bytes, BYTES)
}
