//! Training throughput of the example strategy's MLP (9 inputs, hidden [50, 25], relu, dropout 0.2,
//! Adam, batch 32) on CPU: samples per second over a fixed synthetic set. `scripts/bench-train.sh`
//! runs the same model and data in Python PyTorch and prints the ratio.
//!
//!   bench-train [ROWS] [EPOCHS]

use ktrdr_train::options::{Activation, ClassWeights, Optimizer, Schedule, TrainOptions};
use ktrdr_train::rng::Rng;
use ktrdr_train::samples::{Samples, SplitSamples};
use ktrdr_train::trainer::{Hooks, train};

fn rows(n: usize, seed: u64) -> Samples {
    let mut rng = Rng::new(seed);
    let mut s = Samples::new(9);
    for _ in 0..n {
        let x: Vec<f32> = (0..9).map(|_| rng.unit() as f32).collect();
        let v = x[0] + x[1];
        s.push(
            x,
            if v > 1.2 {
                0
            } else if v < 0.8 {
                2
            } else {
                1
            },
            0,
        );
    }
    s
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let epochs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let data = SplitSamples {
        symbols: vec!["X".into()],
        feature_names: (0..9).map(|i| format!("f{i}")).collect(),
        train: rows(n, 1),
        validation: rows(n / 10, 2),
        test: rows(n / 10, 3),
        first_ms: None,
        last_ms: None,
    };
    let opts = TrainOptions {
        hidden_layers: vec![50, 25],
        activation: Activation::Relu,
        dropout: 0.2,
        learning_rate: 0.001,
        batch_size: 32,
        epochs,
        optimizer: Optimizer::Adam { weight_decay: 0.0 },
        schedule: Schedule::Constant,
        class_weights: ClassWeights::None,
        patience: 0,
        min_delta: 0.0,
        seed: 1,
        embedding_dim: 4,
    };
    match train(
        &data,
        &opts,
        ktrdr_train::Device::Cpu,
        Hooks {
            progress: &mut |_| {},
            cancelled: &|| false,
            checkpoint: None,
        },
    ) {
        Ok(t) => println!(
            "rust samples_per_sec={:.0} test_accuracy={:.3} secs={:.2}",
            t.samples_per_sec, t.metrics.test.accuracy, t.train_secs
        ),
        Err(e) => {
            eprintln!("bench-train: {e}");
            std::process::exit(1);
        }
    }
}
