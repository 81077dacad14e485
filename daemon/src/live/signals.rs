//! `predict --follow`: a model's signal and decision at each closed bar of a subscribed series.
//!
//! The probabilities come from the backtest's own scoring (`ktrdr_train::score::score`) over the
//! stored series up to the newest closed bar, every timeframe the model reads cut at the same
//! time, as a backtest ending there would see them; the decision is the backtest engine's rules
//! stepped bar by bar (`ktrdr_backtest::stepper`), flat at the first bar followed. So the actions
//! printed for a day equal those of `ktrdrctl backtest` over the same bars.

use super::manager::Follower;
use crate::blocking;
use crate::data::DataManager;
use crate::data::input::{SeriesKey, Window};
use crate::training::store_error;
use ktrdr_backtest::stepper::Stepper;
use ktrdr_market::{Bars, Timeframe};
use ktrdr_protocol::WireError;
use ktrdr_protocol::live::SignalLine;
use ktrdr_train::ModelStore;
use ktrdr_train::pipeline::PredictError;
use ktrdr_train::score::{ScoreError, score};
use std::sync::Arc;

pub struct Signals {
    pub model: String,
    pub key: SeriesKey,
    /// Every timeframe the model reads, the base (followed) first.
    pub timeframes: Vec<Timeframe>,
    pub store: Arc<ModelStore>,
    pub data: Arc<DataManager>,
    pub torch_threads: usize,
    pub follower: Follower,
    stepper: Option<Stepper>,
}

fn score_error(e: ScoreError) -> WireError {
    match e {
        ScoreError::Cancelled => WireError::cancelled("scoring cancelled"),
        ScoreError::Predict(PredictError::Store(s)) => store_error(s),
        ScoreError::Predict(PredictError::Invalid(m)) => WireError::validation(m),
    }
}

impl Signals {
    pub fn new(
        model: String,
        key: SeriesKey,
        timeframes: Vec<Timeframe>,
        store: Arc<ModelStore>,
        data: Arc<DataManager>,
        torch_threads: usize,
        follower: Follower,
    ) -> Signals {
        Signals {
            model,
            key,
            timeframes,
            store,
            data,
            torch_threads,
            follower,
            stepper: None,
        }
    }

    /// The signals of the bars `new` (base bars, sorted, already stored).
    pub async fn of(&mut self, new: &Bars) -> Result<Vec<SignalLine>, WireError> {
        let Some(last) = new.last_ts() else {
            return Ok(Vec::new());
        };
        let upto = Window {
            start: None,
            end: Some(last + 1),
        };
        let mut series = Vec::with_capacity(self.timeframes.len());
        for &tf in &self.timeframes {
            let key = SeriesKey {
                symbol: self.key.symbol.clone(),
                timeframe: tf,
            };
            let (bars, r) = self.data.window(&key, upto).await?;
            let bars = if r == (0..bars.len()) {
                bars
            } else {
                Arc::new(bars.slice(r))
            };
            series.push((tf, bars));
        }
        let (store, model, symbol) = (
            Arc::clone(&self.store),
            self.model.clone(),
            self.key.symbol.clone(),
        );
        let threads = self.torch_threads;
        let scored = blocking::run("live signals", move || {
            ktrdr_train::device::set_threads(threads);
            score(&store, &model, &symbol, &series, &mut |_, _| {}, &|| false)
                .map(|s| (s, series))
                .map_err(score_error)
        })
        .await?;
        let (scored, series) = scored;
        let base = &series[0].1;
        let stepper = self.stepper.get_or_insert_with(|| {
            Stepper::new(ktrdr_backtest::Config {
                confidence_threshold: scored.rules.confidence_threshold,
                position_awareness: scored.rules.position_awareness,
                min_signal_separation: scored.rules.min_signal_separation,
                ..ktrdr_backtest::Config::default()
            })
        });
        let mut out = Vec::with_capacity(new.len());
        for &t in new.ts() {
            let i = base.ts().partition_point(|&x| x < t);
            let probs = match base.ts().get(i) {
                Some(&x) if x == t => scored.probs[i],
                _ => [f32::NAN; 3],
            };
            let (action, acted) = stepper.step(probs);
            let (best, conf) = if probs.iter().any(|p| p.is_nan()) {
                (1, f64::NAN)
            } else {
                let mut b = 0;
                for k in 1..3 {
                    if probs[k] > probs[b] {
                        b = k;
                    }
                }
                (b, f64::from(probs[b]))
            };
            out.push(SignalLine {
                model: scored.metadata.name.clone(),
                symbol: self.key.symbol.clone(),
                timeframe: self.key.timeframe.to_string(),
                bar_ms: t,
                signal: ktrdr_train::metrics::CLASS_NAMES[best].to_string(),
                confidence: conf,
                probabilities: probs.iter().map(|&p| f64::from(p)).collect(),
                action: ktrdr_train::metrics::CLASS_NAMES[action.index()].to_string(),
                acted,
            });
        }
        Ok(out)
    }
}
