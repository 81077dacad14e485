//! `ops demo`: a diagnostic operation that only sleeps, so the operations mechanism can be exercised
//! (progress, cancel, queueing, restart) without data or models.

use super::OpHandle;
use ktrdr_protocol::WireError;
use ktrdr_protocol::model::Progress;
use ktrdr_protocol::operation::{DemoParams, DemoResult, OpResult};
use std::time::Duration;

/// Everything `ops demo` accepts, checked before an operation exists.
pub fn validate(p: &DemoParams) -> Result<(), WireError> {
    if !(p.seconds.is_finite() && (0.0..=86_400.0).contains(&p.seconds)) {
        return Err(WireError::validation(format!(
            "--seconds must be between 0 and 86400, got {}",
            p.seconds
        )));
    }
    if p.steps == 0 || p.steps > 1_000_000 {
        return Err(WireError::validation(format!(
            "--steps must be between 1 and 1000000, got {}",
            p.steps
        )));
    }
    Ok(())
}

pub async fn run(p: DemoParams, h: OpHandle) -> Result<OpResult, WireError> {
    let step = Duration::from_secs_f64(p.seconds / f64::from(p.steps));
    for i in 1..=p.steps {
        tokio::select! {
            _ = tokio::time::sleep(step) => {}
            _ = h.cancelled() => return Err(WireError::cancelled(format!("cancelled at step {i} of {}", p.steps))),
        }
        if p.fail_at == Some(i) {
            return Err(WireError::internal(format!(
                "demo failure requested at step {i}"
            )));
        }
        h.progress(Progress {
            percent: f64::from(i) * 100.0 / f64::from(p.steps),
            step: u64::from(i),
            steps: u64::from(p.steps),
            message: format!("slept step {i}/{}", p.steps),
            items: u64::from(i),
            eta_secs: None,
        });
    }
    Ok(OpResult::Demo(DemoResult {
        steps: p.steps,
        slept_secs: p.seconds,
    }))
}
