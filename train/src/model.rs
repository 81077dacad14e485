//! The strategy's network: an MLP from the fuzzy features (plus, for several symbols, a learned
//! symbol embedding) to three logits, BUY / HOLD / SELL.

use crate::rng::Rng;
use ktrdr_protocol::stored_model::Activation;
pub use ktrdr_protocol::stored_model::Architecture;
use tch::{Device, Kind, Tensor, nn};

pub const CLASSES: i64 = 3;

pub struct Mlp {
    hidden: Vec<nn::Linear>,
    out: nn::Linear,
    embedding: Option<nn::Embedding>,
    activation: Activation,
    dropout: f64,
    device: Device,
}

impl Mlp {
    /// Creates the variables under `root`, initialised from `rng` (PyTorch's default ranges:
    /// uniform in ±1/sqrt(fan_in) for linear layers, ±1 for the embedding).
    pub fn new(root: &nn::Path, arch: &Architecture, rng: &mut Rng) -> Mlp {
        let device = root.device();
        let embedding = arch.embeds_symbols().then(|| {
            let e = nn::embedding(
                root / "symbol_embedding",
                arch.symbols.len() as i64,
                arch.embedding_dim,
                Default::default(),
            );
            fill(&e.ws, rng, 1.0);
            e
        });
        let mut width = arch.inputs + embedding.as_ref().map_or(0, |_| arch.embedding_dim);
        let mut hidden = Vec::with_capacity(arch.hidden_layers.len());
        for (i, &h) in arch.hidden_layers.iter().enumerate() {
            hidden.push(layer(&(root / format!("hidden{i}")), width, h, rng));
            width = h;
        }
        let out = layer(&(root / "output"), width, CLASSES, rng);
        Mlp {
            hidden,
            out,
            embedding,
            activation: arch.activation,
            dropout: arch.dropout,
            device,
        }
    }

    /// Logits for `x` (`[n, inputs]`) and `symbols` (`[n]`, used when the model embeds symbols).
    /// With `dropout` (training) the masks come from the training's own generator.
    pub fn forward(&self, x: &Tensor, symbols: &Tensor, dropout: Option<&mut Rng>) -> Tensor {
        let mut h = match &self.embedding {
            Some(e) => Tensor::cat(&[x.shallow_clone(), symbols.apply(e)], 1),
            None => x.shallow_clone(),
        };
        let mut rng = dropout;
        for l in &self.hidden {
            h = self.activate(&h.apply(l));
            if let Some(r) = rng.as_deref_mut()
                && self.dropout > 0.0
            {
                h = self.drop(&h, r);
            }
        }
        h.apply(&self.out)
    }

    fn activate(&self, x: &Tensor) -> Tensor {
        match self.activation {
            Activation::Relu => x.relu(),
            Activation::Tanh => x.tanh(),
            Activation::Sigmoid => x.sigmoid(),
            Activation::LeakyRelu => x.leaky_relu(),
        }
    }

    /// Inverted dropout with a mask drawn from `rng`.
    fn drop(&self, x: &Tensor, rng: &mut Rng) -> Tensor {
        let keep = 1.0 - self.dropout;
        let n = x.numel();
        let scale = (1.0 / keep) as f32;
        let mask: Vec<f32> = (0..n)
            .map(|_| if rng.unit() < keep { scale } else { 0.0 })
            .collect();
        let mask = Tensor::from_slice(&mask)
            .view(x.size().as_slice())
            .to_device(self.device);
        x * mask
    }
}

fn layer(p: &nn::Path, inputs: i64, outputs: i64, rng: &mut Rng) -> nn::Linear {
    let l = nn::linear(p, inputs, outputs, Default::default());
    let bound = 1.0 / (inputs.max(1) as f64).sqrt();
    fill(&l.ws, rng, bound);
    if let Some(bs) = &l.bs {
        fill(bs, rng, bound);
    }
    l
}

fn fill(t: &Tensor, rng: &mut Rng, bound: f64) {
    let n = t.numel();
    let values: Vec<f32> = (0..n).map(|_| rng.symmetric(bound)).collect();
    let src = Tensor::from_slice(&values)
        .view(t.size().as_slice())
        .to_kind(Kind::Float)
        .to_device(t.device());
    tch::no_grad(|| {
        let mut t = t.shallow_clone();
        t.copy_(&src);
    });
}

/// Number of trainable values.
pub fn parameter_count(vs: &nn::VarStore) -> u64 {
    vs.trainable_variables()
        .iter()
        .map(|t| t.numel() as u64)
        .sum()
}
