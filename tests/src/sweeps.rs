//! What the sweep tests share (`tests/sweep.rs`, `tests/slurm.rs`): a small strategy whose cells
//! have a known length, sweep files over it, and the final line of a followed job.

use crate::Daemon;
use serde_json::Value;

/// The example strategy with `EPOCHS` epochs and early stopping off, so a cell's length is known.
pub const STRATEGY: &str = r#"
name: rsi_mr
training_data: {symbols: {list: [EURUSD]}, timeframes: {list: [1h]}}
indicators: [{name: rsi, period: 14, source: close}, {name: macd, fast_period: 12, slow_period: 26, signal_period: 9}]
fuzzy_sets: {rsi: {oversold: {type: triangular, parameters: [0, 20, 35]}, neutral: {type: triangular, parameters: [30, 50, 70]}, overbought: {type: triangular, parameters: [65, 80, 100]}}, macd: {negative: {type: triangular, parameters: [-0.01, -0.005, 0]}, neutral: {type: triangular, parameters: [-0.002, 0, 0.002]}, positive: {type: triangular, parameters: [0, 0.005, 0.01]}}}
model: {type: mlp, architecture: {hidden_layers: [32, 16], activation: relu, dropout: 0.2}, features: {lookback_periods: 2}, training: {learning_rate: 0.001, batch_size: 32, epochs: EPOCHS, optimizer: adam, early_stopping: {patience: 0, min_delta: 0.0001}, seed: 7}}
decisions: {confidence_threshold: 0.5, position_awareness: true, filters: {min_signal_separation: 2}}
training: {labels: {source: zigzag, zigzag_threshold: 0.005}, data_split: {train: 0.7, validation: 0.15, test: 0.15}}
"#;

/// [`STRATEGY`] with `epochs` epochs.
pub fn strategy(epochs: u32) -> String {
    STRATEGY.replace("EPOCHS", &epochs.to_string())
}

/// Writes the strategy (`epochs` epochs) and a sweep `name` over it with `body` (the sweep file
/// after `name:` and `strategy:`); returns the sweep file's path.
pub fn write_sweep(d: &Daemon, name: &str, epochs: u32, body: &str) -> String {
    std::fs::write(
        d.dir.path().join(format!("{name}-strategy.yaml")),
        strategy(epochs),
    )
    .unwrap();
    let path = d.dir.path().join(format!("{name}.yaml"));
    std::fs::write(
        &path,
        format!("name: {name}\nstrategy: {name}-strategy.yaml\n{body}"),
    )
    .unwrap();
    path.display().to_string()
}

/// The last line of a followed job's `--json` output: its final event.
pub fn last_json_line(text: &str) -> Value {
    let line = text.lines().last().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
}
