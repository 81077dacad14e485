//! `ops demo`: a diagnostic operation that only sleeps, so the operations mechanism can be exercised
//! (progress, cancel, queueing, restart) without data or models.

use super::OpHandle;
use ktrdr_protocol::WireError;
use ktrdr_protocol::model::Progress;
use std::time::Duration;

pub struct DemoParams {
    pub seconds: f64,
    pub steps: u32,
    pub fail_at: Option<u32>,
}

impl DemoParams {
    pub fn validate(&self) -> Result<(), WireError> {
        if !(self.seconds.is_finite() && (0.0..=86_400.0).contains(&self.seconds)) {
            return Err(WireError::validation(format!(
                "--seconds must be between 0 and 86400, got {}",
                self.seconds
            )));
        }
        if self.steps == 0 || self.steps > 1_000_000 {
            return Err(WireError::validation(format!(
                "--steps must be between 1 and 1000000, got {}",
                self.steps
            )));
        }
        Ok(())
    }

    pub fn to_json(&self) -> String {
        serde_json::json!({"seconds": self.seconds, "steps": self.steps, "fail_at": self.fail_at})
            .to_string()
    }
}

pub async fn run(p: DemoParams, h: OpHandle) -> Result<String, WireError> {
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
    Ok(serde_json::json!({"steps": p.steps, "slept_secs": p.seconds}).to_string())
}
