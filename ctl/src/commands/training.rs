//! `train`, `models list|show|delete`, `predict`.
//!
//! `train` reads the strategy file here and sends its text, so the file may live anywhere the client
//! can read; the daemon trains on its own stored bars.

use crate::Failure;
use crate::client::Client;
use crate::commands::ops::follow;
use crate::output::{print_json, print_table, table, timestamp_ms};
use clap::{Args, Subcommand, ValueEnum};
use ktrdr_protocol::model::{ModelDetail, ModelInfo};
use ktrdr_protocol::request::{ModelRef, Predict, Train};
use ktrdr_protocol::{Reply, Request, WireError};

use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// The strategy file (YAML).
    pub strategy: PathBuf,
    /// Symbols to train on, replacing the strategy's list (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub symbols: Option<Vec<String>>,
    /// Timeframes, replacing the strategy's list (comma-separated; the finest is the base).
    #[arg(long, value_delimiter = ',')]
    pub timeframes: Option<Vec<String>>,
    /// First bar time (inclusive, UTC).
    #[arg(long)]
    pub start: Option<String>,
    /// Last bar time (exclusive; a plain date includes that day).
    #[arg(long)]
    pub end: Option<String>,
    /// Where to train (default: the daemon's training.device, normally auto = CUDA if available).
    #[arg(long, value_enum)]
    pub device: Option<DeviceArg>,
    /// Print the operation id and return at once instead of following its progress.
    #[arg(long)]
    pub detach: bool,
}

#[derive(ValueEnum, Debug, Clone, Copy)]
pub enum DeviceArg {
    Auto,
    Cpu,
    Cuda,
}

#[derive(Subcommand, Debug)]
#[command(defer = true)] // arguments built only when used: see cli::Command
pub enum ModelsCommand {
    /// Every stored model, newest first per strategy.
    List,
    /// A model's metadata, metrics (test and validation scores, confusion matrix) and features.
    /// NAME is STRATEGY/SYMBOLS_TF_vN, or STRATEGY for its latest version.
    Show { name: String },
    /// Delete a model (if it was the latest, the newest remaining version becomes latest).
    Delete { name: String },
}

#[derive(Args, Debug)]
pub struct PredictArgs {
    /// STRATEGY/SYMBOLS_TF_vN, or STRATEGY for its latest version.
    pub model: String,
    pub symbol: String,
    pub timeframe: String,
    /// Use the last bar at or before this time (UTC; default: the newest bar).
    #[arg(long, conflicts_with = "follow")]
    pub at: Option<String>,
    /// One signal line per closed bar of the subscribed series, as it is stored, until
    /// interrupted (`data subscribe` first). ACTION is what a backtest decides at that bar.
    #[arg(long)]
    pub follow: bool,
    /// With --follow: first the signals of the stored bars from this time on.
    #[arg(long, requires = "follow")]
    pub since: Option<String>,
}

pub async fn train(c: &mut Client, json: bool, a: TrainArgs) -> Result<(), Failure> {
    let yaml = std::fs::read_to_string(&a.strategy)
        .map_err(|e| WireError::validation(format!("cannot read {}: {e}", a.strategy.display())))?;
    let path = std::path::absolute(&a.strategy).unwrap_or_else(|_| a.strategy.clone());
    let req = Request::Train(Train {
        strategy_yaml: yaml,
        strategy_path: path.display().to_string(),
        symbols: a.symbols,
        timeframes: a.timeframes,
        start: a.start,
        end: a.end,
        device: a.device.map(|d| {
            match d {
                DeviceArg::Auto => "auto",
                DeviceArg::Cpu => "cpu",
                DeviceArg::Cuda => "cuda",
            }
            .to_string()
        }),
        follow: !a.detach,
    });
    if a.detach {
        return crate::commands::ops::detached(c, &req, json).await;
    }
    follow(c, &req, json).await
}

pub async fn models(c: &mut Client, json: bool, cmd: ModelsCommand) -> Result<(), Failure> {
    match cmd {
        ModelsCommand::List => {
            let Reply::Models(list) = c.call(&Request::ModelsList).await? else {
                return Err(WireError::internal("unexpected reply to models list").into());
            };
            if json {
                print_json(&list)?;
                return Ok(());
            }
            if list.models.is_empty() {
                println!("no models in {}", list.dir);
                return Ok(());
            }
            let mut t = table(&[
                "name",
                "latest",
                "created (utc)",
                "device",
                "params",
                "test acc",
                "took",
            ]);
            for m in &list.models {
                t.add_row(vec![
                    m.name.clone(),
                    if m.latest { "*".into() } else { String::new() },
                    timestamp_ms(m.created_ms),
                    m.device.clone(),
                    m.parameters.to_string(),
                    format!("{:.1}%", m.test_accuracy * 100.0),
                    crate::output::duration(m.train_secs),
                ]);
            }
            print_table(&t);
        }
        ModelsCommand::Show { name } => {
            let Reply::Model(d) = c.call(&Request::ModelsShow(ModelRef { name })).await? else {
                return Err(WireError::internal("unexpected reply to models show").into());
            };
            show(&d, json)?;
        }
        ModelsCommand::Delete { name } => {
            let Reply::ModelDeleted(m) = c.call(&Request::ModelsDelete(ModelRef { name })).await?
            else {
                return Err(WireError::internal("unexpected reply to models delete").into());
            };
            if json {
                print_json(&m)?;
            } else {
                println!("deleted {}", m.name);
            }
        }
    }
    Ok(())
}

fn show(d: &ModelDetail, json: bool) -> Result<(), WireError> {
    if json {
        return print_json(d);
    }
    let (metadata, metrics) = (&d.metadata, &d.metrics);
    let m: &ModelInfo = &d.info;
    let mut t = table(&["field", "value"]);
    let mut row = |k: &str, v: String| {
        t.add_row(vec![k.to_string(), v]);
    };
    row(
        "name",
        format!("{}{}", m.name, if m.latest { " (latest)" } else { "" }),
    );
    row("symbols", m.symbols.join(", "));
    row("timeframe", m.timeframe.clone());
    row("created", timestamp_ms(m.created_ms));
    row(
        "device",
        format!("{} (torch {})", m.device, m.torch_version),
    );
    row("parameters", m.parameters.to_string());
    let range = |v: Option<i64>| v.map(timestamp_ms).unwrap_or_else(|| "-".into());
    row(
        "data",
        format!(
            "{} .. {}",
            range(metadata.data_first_ms),
            range(metadata.data_last_ms)
        ),
    );
    let s = &metadata.samples;
    row(
        "samples",
        format!(
            "{} train / {} validation / {} test",
            s.train, s.validation, s.test
        ),
    );
    row(
        "training",
        format!(
            "{} epochs (best {}), {:.0} samples/s, {}",
            metrics.epochs_run,
            metrics.best_epoch,
            metadata.samples_per_sec,
            crate::output::duration(m.train_secs)
        ),
    );
    for (part, e) in [("test", &metrics.test), ("validation", &metrics.validation)] {
        row(
            part,
            format!(
                "accuracy {:.1}%, loss {:.4}",
                e.accuracy * 100.0,
                e.loss.unwrap_or(f64::NAN)
            ),
        );
    }
    row("path", m.path.clone());
    print_table(&t);
    let test = &metrics.test;
    println!();
    let mut t = table(&[
        "class",
        "precision",
        "recall",
        "f1",
        "support",
        "pred buy",
        "pred hold",
        "pred sell",
    ]);
    for (c, confusion) in test.classes.iter().zip(test.confusion.iter()) {
        let f = |v: f64| format!("{v:.3}");
        let mut r = vec![
            c.class.clone(),
            f(c.precision),
            f(c.recall),
            f(c.f1),
            c.support.to_string(),
        ];
        r.extend(confusion.iter().map(|n| n.to_string()));
        t.add_row(r);
    }
    print_table(&t);
    if !metrics.per_symbol_test.is_empty() {
        println!();
        let mut t = table(&["symbol", "test accuracy", "samples"]);
        for (s, e) in &metrics.per_symbol_test {
            t.add_row(vec![
                s.clone(),
                format!("{:.1}%", e.accuracy * 100.0),
                e.samples.to_string(),
            ]);
        }
        print_table(&t);
    }
    println!(
        "\nfeatures ({}): {}",
        d.features.len(),
        d.features.join(", ")
    );
    Ok(())
}

pub async fn predict(c: &mut Client, json: bool, a: PredictArgs) -> Result<(), Failure> {
    if a.follow {
        let req = ktrdr_protocol::request::PredictFollow {
            model: a.model,
            symbol: a.symbol,
            timeframe: a.timeframe,
            since: a.since,
        };
        return crate::commands::live::predict_follow(c, json, req).await;
    }
    let req = Request::Predict(Predict {
        model: a.model,
        symbol: a.symbol,
        timeframe: a.timeframe,
        at: a.at,
    });
    let Reply::Prediction(p) = c.call(&req).await? else {
        return Err(WireError::internal("unexpected reply to predict").into());
    };
    if json {
        print_json(&p)?;
        return Ok(());
    }
    let mut t = table(&["field", "value"]);
    t.add_row(vec!["model".to_string(), p.model.clone()]);
    t.add_row(vec![
        "bar".to_string(),
        format!("{} {} {}", p.symbol, p.timeframe, timestamp_ms(p.bar_ms)),
    ]);
    let below = if p.confidence < p.confidence_threshold {
        format!(
            " (below the strategy's threshold {:.2})",
            p.confidence_threshold
        )
    } else {
        String::new()
    };
    t.add_row(vec!["signal".to_string(), format!("{}{below}", p.signal)]);
    t.add_row(vec![
        "confidence".to_string(),
        format!("{:.3}", p.confidence),
    ]);
    for (name, v) in ["BUY", "HOLD", "SELL"].iter().zip(&p.probabilities) {
        t.add_row(vec![format!("p({name})"), format!("{v:.3}")]);
    }
    print_table(&t);
    Ok(())
}
