//! Adam, SGD and RMSprop over a VarStore's trainable variables, with their state readable and
//! writable as named tensors so that a checkpoint can hold it.
//!
//! Hand-written because tch 0.26's `nn::Optimizer` wraps a C++ `torch::optim` object and exposes no
//! accessor for its state (Adam's moments, the momentum buffers, the step counts): a training resumed
//! with a fresh `nn::Optimizer` would restart those from zero and end with other weights.
//!
//! The updates are libtorch's, op for op (`torch/csrc/api/src/optim/{adam,sgd,rmsprop}.cpp`, as
//! `nn::Adam`, `nn::Sgd` and `nn::RmsProp` configure them), so a run with this module gives the
//! weights `nn::Optimizer` gives, bit for bit on CPU (the tests below check it). tch's generated ops
//! drop the `alpha` / `value` scalars of `add_`, `addcmul_` and `addcdiv_`; they are rebuilt from
//! ops with the same rounding:
//! - `a.add_(b, alpha)` is one fused multiply-add per element; `a.addcmul_(b, alpha)` with `alpha` a
//!   0-dim tensor is the same fused multiply-add (`a + 1 * b * alpha`), while `a.add_(b * alpha)`
//!   would round twice;
//! - `a.addcmul_(b, c, value)` and `a.addcdiv_(b, c, value)` compute `(value * b) * c` and
//!   `(value * b) / c`: the same as `addcmul_(b * value, c)` and `addcdiv_(b * value, c)`, since the
//!   kernel's `1 * x` is exact.
//!
//! The price: a few more tensor ops per variable and step than libtorch's loop (the rebuilt scalars
//! cost a temporary each), which shows on tiny models with small batches (bench-train's MLP at
//! batch 32 runs about 10% fewer samples per second) and vanishes as the layers grow.

use crate::options;
use crate::trainer::TrainError;
use std::collections::BTreeMap;
use tch::{Kind, Tensor, nn};

/// libtorch's Adam (not AdamW): L2 weight decay added to the gradient, bias-corrected moments.
/// No amsgrad: the strategy options cannot ask for it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Adam {
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub wd: f64,
}

impl Default for Adam {
    /// tch's `nn::Adam::default()`.
    fn default() -> Self {
        Adam {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            wd: 0.0,
        }
    }
}

/// libtorch's SGD with tch's defaults for what is not here: dampening 0, no Nesterov.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Sgd {
    pub momentum: f64,
    pub wd: f64,
}

/// libtorch's RMSprop, not centered (tch's default).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RmsProp {
    pub alpha: f64,
    pub eps: f64,
    pub momentum: f64,
    pub wd: f64,
}

impl Default for RmsProp {
    /// tch's `nn::RmsProp::default()`.
    fn default() -> Self {
        RmsProp {
            alpha: 0.99,
            eps: 1e-8,
            momentum: 0.0,
            wd: 0.0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rule {
    Adam(Adam),
    Sgd(Sgd),
    RmsProp(RmsProp),
}

impl From<Adam> for Rule {
    fn from(a: Adam) -> Rule {
        Rule::Adam(a)
    }
}

impl From<Sgd> for Rule {
    fn from(s: Sgd) -> Rule {
        Rule::Sgd(s)
    }
}

impl From<RmsProp> for Rule {
    fn from(r: RmsProp) -> Rule {
        Rule::RmsProp(r)
    }
}

impl Rule {
    /// The rule a strategy's options ask for, every other setting at tch's default.
    pub fn from_options(o: &options::Optimizer) -> Rule {
        match *o {
            options::Optimizer::Adam { weight_decay } => Adam {
                wd: weight_decay,
                ..Default::default()
            }
            .into(),
            options::Optimizer::Sgd {
                momentum,
                weight_decay,
            } => Sgd {
                momentum,
                wd: weight_decay,
            }
            .into(),
            options::Optimizer::RmsProp {
                momentum,
                weight_decay,
            } => RmsProp {
                momentum,
                wd: weight_decay,
                ..Default::default()
            }
            .into(),
        }
    }

    /// The per-variable tensors the rule keeps, in the order of [`Param::slots`]. libtorch keeps a
    /// momentum buffer for SGD when momentum != 0 and for RMSprop when momentum > 0.
    fn slot_names(&self) -> &'static [&'static str] {
        match self {
            Rule::Adam(_) => &["exp_avg", "exp_avg_sq"],
            Rule::Sgd(s) if s.momentum != 0.0 => &["momentum_buffer"],
            Rule::Sgd(_) => &[],
            Rule::RmsProp(r) if r.momentum > 0.0 => &["square_avg", "momentum_buffer"],
            Rule::RmsProp(_) => &["square_avg"],
        }
    }
}

/// A trainable variable and its state. Like libtorch, the state is created at the variable's first
/// step with a gradient: `step == 0` means no state yet and `slots` is then empty.
struct Param {
    name: String,
    value: Tensor,
    step: i64,
    slots: Vec<Tensor>,
}

pub struct Optimizer {
    rule: Rule,
    lr: f64,
    params: Vec<Param>,
    scalars: Scalars,
}

/// The state's name for a variable's step count; slots are named after [`Rule::slot_names`].
const STEP: &str = "step";

impl Optimizer {
    /// Optimizes every trainable variable `vs` holds now (variables added later are not seen).
    pub fn new(vs: &nn::VarStore, rule: impl Into<Rule>, lr: f64) -> Optimizer {
        let vars: BTreeMap<String, Tensor> = vs
            .variables()
            .into_iter()
            .filter(|(_, t)| t.requires_grad())
            .collect();
        Optimizer {
            rule: rule.into(),
            lr,
            params: vars
                .into_iter()
                .map(|(name, value)| Param {
                    name,
                    value,
                    step: 0,
                    slots: Vec::new(),
                })
                .collect(),
            scalars: Scalars::default(),
        }
    }

    pub fn lr(&self) -> f64 {
        self.lr
    }

    pub fn set_lr(&mut self, lr: f64) {
        if lr != self.lr {
            self.scalars = Scalars::default();
        }
        self.lr = lr;
    }

    /// Zeroes the gradients (in place; the next backward pass adds to zero, which gives the
    /// gradient itself).
    pub fn zero_grad(&mut self) {
        for p in &mut self.params {
            p.value.zero_grad();
        }
    }

    /// Zeroes the gradients, runs the backward pass of `loss` and steps.
    pub fn backward_step(&mut self, loss: &Tensor) -> Result<(), TrainError> {
        self.zero_grad();
        loss.f_backward()?;
        self.step()
    }

    /// One update of every variable that has a gradient.
    pub fn step(&mut self) -> Result<(), TrainError> {
        let (rule, lr) = (self.rule, self.lr);
        let names = rule.slot_names();
        let scalars = &mut self.scalars;
        tch::no_grad(|| {
            for p in &mut self.params {
                let grad = p.value.grad();
                if !grad.defined() {
                    continue;
                }
                if p.step == 0 {
                    p.slots = names
                        .iter()
                        .map(|_| p.value.f_zeros_like())
                        .collect::<Result<_, _>>()?;
                }
                p.step += 1;
                match rule {
                    Rule::Adam(a) => adam(p, grad, &a, lr, scalars)?,
                    Rule::Sgd(s) => sgd(p, grad, &s, lr, scalars)?,
                    Rule::RmsProp(r) => rms_prop(p, grad, &r, lr, scalars)?,
                }
            }
            Ok(())
        })
    }

    /// The state as named tensors `{variable}/step` (an int64 scalar) and `{variable}/{slot}`, for
    /// the variables stepped so far. The tensors share storage with the optimizer's: save them
    /// before the next step.
    pub fn state(&self) -> Vec<(String, Tensor)> {
        let names = self.rule.slot_names();
        let mut out = Vec::new();
        for p in self.params.iter().filter(|p| p.step > 0) {
            out.push((
                format!("{}/{STEP}", p.name),
                Tensor::scalar_tensor(p.step, (Kind::Int64, tch::Device::Cpu)),
            ));
            for (slot, t) in names.iter().zip(&p.slots) {
                out.push((format!("{}/{slot}", p.name), t.shallow_clone()));
            }
        }
        out
    }

    /// Replaces the state with `named` (as [`Optimizer::state`] gives it), after checking that it
    /// is this rule's state for these variables. The tensors are taken as they are (moved to the
    /// variables' device, not copied). On an error the state is unchanged.
    pub fn load_state(&mut self, named: Vec<(String, Tensor)>) -> Result<(), TrainError> {
        let invalid = |m: String| TrainError::Invalid(format!("optimizer state: {m}"));
        let slot_names = self.rule.slot_names();
        let mut by_var: BTreeMap<String, BTreeMap<String, Tensor>> = BTreeMap::new();
        for (name, t) in named {
            let Some((var, slot)) = name.rsplit_once('/') else {
                return Err(invalid(format!("unexpected entry {name:?}")));
            };
            if slot != STEP && !slot_names.contains(&slot) {
                return Err(invalid(format!(
                    "{name:?} is not part of this optimizer's state"
                )));
            }
            by_var
                .entry(var.to_string())
                .or_default()
                .insert(slot.to_string(), t);
        }
        let mut loaded = Vec::with_capacity(self.params.len());
        for p in &self.params {
            let Some(mut entries) = by_var.remove(&p.name) else {
                loaded.push((0, Vec::new()));
                continue;
            };
            let step = entries
                .remove(STEP)
                .ok_or_else(|| invalid(format!("{} has no step count", p.name)))?;
            let step = match (step.kind(), step.dim()) {
                (Kind::Int64, 0) => step.f_int64_value(&[])?,
                _ => return Err(invalid(format!("{}/{STEP} is not an integer", p.name))),
            };
            if step < 1 {
                return Err(invalid(format!("{}/{STEP} is {step}", p.name)));
            }
            let mut slots = Vec::with_capacity(slot_names.len());
            for slot in slot_names {
                let t = entries
                    .remove(*slot)
                    .ok_or_else(|| invalid(format!("{} has no {slot}", p.name)))?;
                if t.size() != p.value.size() || t.kind() != p.value.kind() {
                    return Err(invalid(format!(
                        "{}/{slot} is {:?} {:?}, the variable is {:?} {:?}",
                        p.name,
                        t.kind(),
                        t.size(),
                        p.value.kind(),
                        p.value.size()
                    )));
                }
                slots.push(t.f_to_device(p.value.device())?);
            }
            loaded.push((step, slots));
        }
        if let Some(var) = by_var.keys().next() {
            return Err(invalid(format!("{var:?} is not a variable of this model")));
        }
        for (p, (step, slots)) in self.params.iter_mut().zip(loaded) {
            p.step = step;
            p.slots = slots;
        }
        Ok(())
    }
}

/// 0-dim tensors holding the `alpha`s of the fused multiply-adds, made once rather than at every
/// step of every variable (small models take many small steps, where each allocation shows).
#[derive(Default)]
struct Scalars(Vec<(u64, Kind, tch::Device, Tensor)>);

impl Scalars {
    /// `v` with `like`'s kind and device.
    fn get(&mut self, v: f64, like: &Tensor) -> Result<&Tensor, TrainError> {
        let key = (v.to_bits(), like.kind(), like.device());
        let i = match self.0.iter().position(|e| (e.0, e.1, e.2) == key) {
            Some(i) => i,
            None => {
                let t = Tensor::f_scalar_tensor(v, (key.1, key.2))?;
                self.0.push((key.0, key.1, key.2, t));
                self.0.len() - 1
            }
        };
        Ok(&self.0[i].3)
    }
}

/// `grad + wd * p` (libtorch: `grad.add(p, wd)`), or `grad` when `wd` is 0.
fn decayed(grad: Tensor, p: &Tensor, wd: f64, s: &mut Scalars) -> Result<Tensor, TrainError> {
    if wd != 0.0 {
        Ok(grad.f_addcmul(p, s.get(wd, p)?)?)
    } else {
        Ok(grad)
    }
}

/// torch/csrc/api/src/optim/adam.cpp, amsgrad off.
fn adam(p: &mut Param, grad: Tensor, a: &Adam, lr: f64, s: &mut Scalars) -> Result<(), TrainError> {
    let step = p.step as f64;
    let bias_correction1 = 1.0 - a.beta1.powf(step);
    let bias_correction2 = 1.0 - a.beta2.powf(step);
    let grad = decayed(grad, &p.value, a.wd, s)?;
    let [exp_avg, exp_avg_sq] = &mut p.slots[..] else {
        return Err(TrainError::Torch("Adam state is incomplete".into()));
    };
    // exp_avg.mul_(beta1).add_(grad, 1 - beta1)
    let _ = exp_avg.f_mul_scalar_(a.beta1)?;
    let _ = exp_avg.f_addcmul_(&grad, s.get(1.0 - a.beta1, &grad)?)?;
    // exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1 - beta2)
    let _ = exp_avg_sq.f_mul_scalar_(a.beta2)?;
    let _ = exp_avg_sq.f_addcmul_(&grad.f_mul_scalar(1.0 - a.beta2)?, &grad)?;
    // denom = (exp_avg_sq.sqrt() / sqrt(bias_correction2)).add_(eps)
    let mut denom = exp_avg_sq.f_sqrt()?.f_div_scalar(bias_correction2.sqrt())?;
    let _ = denom.f_add_scalar_(a.eps)?;
    // p.addcdiv_(exp_avg, denom, -lr / bias_correction1)
    let step_size = lr / bias_correction1;
    let _ = p
        .value
        .f_addcdiv_(&exp_avg.f_mul_scalar(-step_size)?, &denom)?;
    Ok(())
}

/// torch/csrc/api/src/optim/sgd.cpp, dampening 0, no Nesterov.
fn sgd(p: &mut Param, grad: Tensor, o: &Sgd, lr: f64, s: &mut Scalars) -> Result<(), TrainError> {
    let d_p = decayed(grad, &p.value, o.wd, s)?;
    let d_p = if o.momentum != 0.0 {
        let Some(buf) = p.slots.first_mut() else {
            return Err(TrainError::Torch("SGD state is incomplete".into()));
        };
        if p.step == 1 {
            // libtorch starts the buffer as a copy of the first gradient, not at zero.
            buf.f_copy_(&d_p)?;
        } else {
            // buf.mul_(momentum).add_(d_p, 1 - dampening), dampening 0
            let _ = buf.f_mul_scalar_(o.momentum)?;
            let _ = buf.f_add_(&d_p)?;
        }
        buf.shallow_clone()
    } else {
        d_p
    };
    // p.add_(d_p, -lr)
    let _ = p.value.f_addcmul_(&d_p, s.get(-lr, &d_p)?)?;
    Ok(())
}

/// torch/csrc/api/src/optim/rmsprop.cpp, not centered.
fn rms_prop(
    p: &mut Param,
    grad: Tensor,
    r: &RmsProp,
    lr: f64,
    s: &mut Scalars,
) -> Result<(), TrainError> {
    let grad = decayed(grad, &p.value, r.wd, s)?;
    let Some(square_avg) = p.slots.first_mut() else {
        return Err(TrainError::Torch("RMSprop state is incomplete".into()));
    };
    // square_avg.mul_(alpha).addcmul_(grad, grad, 1 - alpha)
    let _ = square_avg.f_mul_scalar_(r.alpha)?;
    let _ = square_avg.f_addcmul_(&grad.f_mul_scalar(1.0 - r.alpha)?, &grad)?;
    // avg = square_avg.sqrt().add_(eps)
    let mut avg = square_avg.f_sqrt()?;
    let _ = avg.f_add_scalar_(r.eps)?;
    if r.momentum > 0.0 {
        let Some(buf) = p.slots.get_mut(1) else {
            return Err(TrainError::Torch("RMSprop state is incomplete".into()));
        };
        // buf.mul_(momentum).addcdiv_(grad, avg); p.add_(buf, -lr)
        let _ = buf.f_mul_scalar_(r.momentum)?;
        let _ = buf.f_addcdiv_(&grad, &avg)?;
        let buf = buf.shallow_clone();
        let _ = p.value.f_addcmul_(&buf, s.get(-lr, &buf)?)?;
    } else {
        // p.addcdiv_(grad, avg, -lr)
        let _ = p.value.f_addcdiv_(&grad.f_mul_scalar(-lr)?, &avg)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Architecture, Mlp};
    use crate::rng::Rng;
    use ktrdr_protocol::stored_model::Activation;
    use tch::nn::OptimizerConfig;
    use tch::{Device, Reduction};

    fn arch() -> Architecture {
        Architecture {
            inputs: 5,
            hidden_layers: vec![12, 6],
            activation: Activation::Tanh,
            dropout: 0.0,
            symbols: vec!["A".into(), "B".into()],
            embedding_dim: 3,
        }
    }

    /// A model (with a symbol embedding, so every kind of variable is covered) from `seed`.
    fn model(seed: u64) -> (nn::VarStore, Mlp) {
        let vs = nn::VarStore::new(Device::Cpu);
        let m = Mlp::new(&vs.root(), &arch(), &mut Rng::new(seed));
        (vs, m)
    }

    /// `n` batches of 16 rows with learnable labels.
    fn batches(n: usize) -> Vec<(Tensor, Tensor, Tensor)> {
        let mut rng = Rng::new(99);
        (0..n)
            .map(|_| {
                let x: Vec<f32> = (0..16 * 5).map(|_| rng.symmetric(1.0)).collect();
                let y: Vec<i64> = x
                    .chunks(5)
                    .map(|r| {
                        if r[0] + r[1] > 0.3 {
                            0
                        } else if r[0] + r[1] < -0.3 {
                            2
                        } else {
                            1
                        }
                    })
                    .collect();
                let s: Vec<i64> = (0..16).map(|_| rng.below(2) as i64).collect();
                (
                    Tensor::from_slice(&x).view([16, 5]),
                    Tensor::from_slice(&y),
                    Tensor::from_slice(&s),
                )
            })
            .collect()
    }

    fn loss(m: &Mlp, (x, y, s): &(Tensor, Tensor, Tensor)) -> Tensor {
        m.forward(x, s, None)
            .cross_entropy_loss::<Tensor>(y, None, Reduction::Mean, -100, 0.0)
    }

    /// Trains two copies of one model on the same batches, one with tch's optimizer and one with
    /// ours, changing the learning rate halfway; returns the largest weight difference.
    fn compare(tch_opt: impl OptimizerConfig, ours: Rule, lr: f64) -> f64 {
        const STEPS: usize = 300;
        let data = batches(STEPS);
        let (vs_a, a) = model(5);
        let (vs_b, b) = model(5);
        let mut opt_a = tch_opt.build(&vs_a, lr).unwrap();
        let mut opt_b = Optimizer::new(&vs_b, ours, lr);
        for (i, batch) in data.iter().enumerate() {
            if i == STEPS / 2 {
                opt_a.set_lr(lr * 0.5);
                opt_b.set_lr(lr * 0.5);
            }
            opt_a.backward_step(&loss(&a, batch));
            opt_b.backward_step(&loss(&b, batch)).unwrap();
        }
        let (va, vb) = (vs_a.variables(), vs_b.variables());
        let (vs_init, _) = model(5);
        let init = vs_init.variables();
        assert_eq!(va.len(), 7);
        let mut max_diff = 0f64;
        for (name, ta) in &va {
            // Training moved every variable: the comparison is not between untouched copies.
            assert!(!ta.equal(&init[name]), "{name} did not move");
            let d = (ta - &vb[name]).abs().max().double_value(&[]);
            max_diff = max_diff.max(d);
        }
        max_diff
    }

    /// Our optimizer against libtorch's, on CPU: the same weights to the last bit after 300 steps.
    #[test]
    fn matches_libtorch_bit_for_bit() {
        let cases: Vec<(&str, f64)> = vec![
            (
                "adam",
                compare(nn::Adam::default(), Adam::default().into(), 0.01),
            ),
            (
                "adam wd",
                compare(
                    nn::Adam {
                        wd: 0.01,
                        ..Default::default()
                    },
                    Adam {
                        wd: 0.01,
                        ..Default::default()
                    }
                    .into(),
                    0.01,
                ),
            ),
            (
                "sgd momentum wd",
                compare(
                    nn::Sgd {
                        momentum: 0.9,
                        wd: 0.001,
                        ..Default::default()
                    },
                    Sgd {
                        momentum: 0.9,
                        wd: 0.001,
                    }
                    .into(),
                    0.05,
                ),
            ),
            (
                "sgd plain",
                compare(nn::Sgd::default(), Sgd::default().into(), 0.1),
            ),
            (
                "rmsprop momentum wd",
                compare(
                    nn::RmsProp {
                        momentum: 0.9,
                        wd: 0.001,
                        ..Default::default()
                    },
                    RmsProp {
                        momentum: 0.9,
                        wd: 0.001,
                        ..Default::default()
                    }
                    .into(),
                    0.001,
                ),
            ),
            (
                "rmsprop",
                compare(nn::RmsProp::default(), RmsProp::default().into(), 0.003),
            ),
        ];
        let differ: Vec<String> = cases
            .iter()
            .filter(|(_, d)| *d != 0.0)
            .map(|(name, d)| format!("{name}: max abs weight difference {d:e}"))
            .collect();
        assert!(differ.is_empty(), "{differ:#?}");
    }

    #[test]
    fn state_round_trips_and_a_foreign_state_is_refused() {
        let data = batches(20);
        let rule: Rule = Adam::default().into();
        let (vs_a, a) = model(1);
        let mut opt_a = Optimizer::new(&vs_a, rule, 0.01);
        for b in &data[..10] {
            opt_a.backward_step(&loss(&a, b)).unwrap();
        }
        let state = opt_a.state();
        assert_eq!(state.len(), 7 * 3);
        // A second model gets A's weights and optimizer state, then both take the same steps.
        let (mut vs_b, b) = model(2);
        vs_b.copy(&vs_a).unwrap();
        let mut opt_b = Optimizer::new(&vs_b, rule, 0.01);
        let copied = state.iter().map(|(n, t)| (n.clone(), t.copy())).collect();
        opt_b.load_state(copied).unwrap();
        for batch in &data[10..] {
            opt_a.backward_step(&loss(&a, batch)).unwrap();
            opt_b.backward_step(&loss(&b, batch)).unwrap();
        }
        for (name, t) in vs_a.variables() {
            assert!(t.equal(&vs_b.variables()[&name]), "{name}");
        }

        let mut sgd = Optimizer::new(
            &vs_b,
            Sgd {
                momentum: 0.9,
                wd: 0.0,
            },
            0.1,
        );
        let e = sgd.load_state(opt_a.state()).unwrap_err();
        assert!(e.to_string().contains("exp_avg"), "{e}");
        let mut wrong_shape = opt_a.state();
        wrong_shape[1].1 = Tensor::zeros([2], (Kind::Float, Device::Cpu));
        let e = opt_b.load_state(wrong_shape).unwrap_err();
        assert!(e.to_string().contains("the variable is"), "{e}");
    }
}
