//! A training's state at the end of an epoch, in one file, so that a stopped or crashed training
//! resumes at the next epoch and ends with the weights the uninterrupted run would have.
//!
//! The file: the magic `KTRDRCK1`, a little-endian u32 length, that many bytes of JSON (the
//! scalars, see [`Header`]), then the tensors as one libtorch archive (`Tensor::save_multi_to_stream`)
//! whose length the JSON gives. It is replaced atomically (`ktrdr-atomicfile`): a crash while writing
//! leaves the previous epoch's checkpoint. Floats are stored as their bit patterns: JSON has no
//! infinity (the plateau scheduler starts at one) and a decimal round trip could move a learning rate
//! or a best loss by one bit, and with it every later weight.
//!
//! A checkpoint carries the caller's fingerprint of the plan and data; one made for another training
//! is refused, never used and never silently ignored.

use crate::metrics::EpochRecord;
use crate::trainer::TrainError;
use serde::{Deserialize, Serialize};
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};
use tch::{Device, Kind, Tensor};

const MAGIC: &[u8; 8] = b"KTRDRCK1";
/// Magic and JSON length.
const PREAMBLE: usize = 12;

/// Where a training keeps its checkpoint, and what identifies the training (the plan and the data:
/// the caller's choice, e.g. a hash of the strategy, symbols, timeframes and bar range).
///
/// The trainer never deletes the file: the caller removes it ([`CheckpointSpec::remove`]) once the
/// trained model is saved. A call with a spec whose file holds the last epoch only re-runs the final
/// evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointSpec {
    pub path: PathBuf,
    pub fingerprint: String,
}

impl CheckpointSpec {
    /// Removes the checkpoint; one that does not exist is not an error.
    pub fn remove(&self) -> Result<(), TrainError> {
        match std::fs::remove_file(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(TrainError::Io(format!(
                "remove checkpoint {}: {e}",
                self.path.display()
            ))),
            _ => Ok(()),
        }
    }

    /// The checkpoint of this training, if the file exists. One with another fingerprint, or a
    /// damaged one, is an error naming the file.
    pub fn load(&self, device: Device) -> Result<Option<Checkpoint>, TrainError> {
        match std::fs::metadata(&self.path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(TrainError::Io(format!(
                    "checkpoint {}: {e}",
                    self.path.display()
                )));
            }
            Ok(_) => {}
        }
        let c = Checkpoint::read(&self.path, device)?;
        if c.fingerprint != self.fingerprint {
            return Err(TrainError::Invalid(format!(
                "checkpoint {} belongs to another training (fingerprint {:?}, this one is {:?}): \
                 the plan or the data changed; delete the file to start over",
                self.path.display(),
                c.fingerprint,
                self.fingerprint
            )));
        }
        Ok(Some(c))
    }
}

/// The epoch with the lowest validation loss so far, and a copy of its weights.
pub struct Best {
    pub val_loss: f64,
    pub epoch: usize,
    pub weights: Vec<(String, Tensor)>,
}

/// Everything needed to start epoch `epochs_finished + 1` as the uninterrupted run would.
pub struct Checkpoint {
    pub fingerprint: String,
    pub epochs_finished: usize,
    /// Early stopping ended the training after `epochs_finished`: no epoch follows.
    pub stopped: bool,
    pub rng_state: u64,
    pub learning_rate: f64,
    pub best: Option<Best>,
    /// Epochs since the best one (early stopping).
    pub since_best: usize,
    pub plateau_best: f64,
    pub plateau_wait: usize,
    pub history: Vec<EpochRecord>,
    pub done_batches: usize,
    pub seen_samples: u64,
    /// Training time so far, over every run that contributed.
    pub elapsed_secs: f64,
    /// The training rows' order after the last shuffle (each epoch shuffles it further).
    pub order: Vec<i64>,
    /// Every variable of the model.
    pub weights: Vec<(String, Tensor)>,
    /// [`crate::optim::Optimizer::state`].
    pub optimizer: Vec<(String, Tensor)>,
}

/// The JSON part of the file.
#[derive(Serialize, Deserialize)]
struct Header {
    fingerprint: String,
    epochs_finished: usize,
    stopped: bool,
    rng_state: u64,
    #[serde(with = "bits")]
    learning_rate: f64,
    best: Option<BestHeader>,
    since_best: usize,
    #[serde(with = "bits")]
    plateau_best: f64,
    plateau_wait: usize,
    history: Vec<Record>,
    done_batches: usize,
    seen_samples: u64,
    #[serde(with = "bits")]
    elapsed_secs: f64,
    /// Length of the tensor archive after the JSON: a shorter file is truncated.
    tensor_bytes: u64,
}

#[derive(Serialize, Deserialize)]
struct BestHeader {
    #[serde(with = "bits")]
    val_loss: f64,
    epoch: usize,
}

/// [`EpochRecord`] with exact floats.
#[derive(Serialize, Deserialize)]
struct Record {
    epoch: usize,
    #[serde(with = "bits")]
    train_loss: f64,
    #[serde(with = "bits")]
    train_accuracy: f64,
    #[serde(with = "bits")]
    val_loss: f64,
    #[serde(with = "bits")]
    val_accuracy: f64,
    #[serde(with = "bits")]
    learning_rate: f64,
}

impl From<&EpochRecord> for Record {
    fn from(r: &EpochRecord) -> Record {
        Record {
            epoch: r.epoch,
            train_loss: r.train_loss,
            train_accuracy: r.train_accuracy,
            val_loss: r.val_loss,
            val_accuracy: r.val_accuracy,
            learning_rate: r.learning_rate,
        }
    }
}

impl From<Record> for EpochRecord {
    fn from(r: Record) -> EpochRecord {
        EpochRecord {
            epoch: r.epoch,
            train_loss: r.train_loss,
            train_accuracy: r.train_accuracy,
            val_loss: r.val_loss,
            val_accuracy: r.val_accuracy,
            learning_rate: r.learning_rate,
        }
    }
}

/// f64 as its IEEE bit pattern (a JSON integer): exact, and infinities survive.
mod bits {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(v.to_bits())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        u64::deserialize(d).map(f64::from_bits)
    }
}

const MODEL: &str = "model/";
const BEST: &str = "best/";
const OPTIM: &str = "optim/";
const ORDER: &str = "order";

impl Checkpoint {
    /// Writes the checkpoint to `path`, atomically.
    pub fn write(&self, path: &Path) -> Result<(), TrainError> {
        let order = Tensor::from_slice(&self.order);
        let mut named: Vec<(String, &Tensor)> = vec![(ORDER.to_string(), &order)];
        for (prefix, list) in [(MODEL, &self.weights), (OPTIM, &self.optimizer)]
            .into_iter()
            .chain(self.best.as_ref().map(|b| (BEST, &b.weights)))
        {
            named.extend(list.iter().map(|(n, t)| (format!("{prefix}{n}"), t)));
        }
        let mut tensors = Vec::new();
        Tensor::save_multi_to_stream(&named, &mut tensors)
            .map_err(|e| TrainError::Io(format!("checkpoint {}: {e}", path.display())))?;
        let header = Header {
            fingerprint: self.fingerprint.clone(),
            epochs_finished: self.epochs_finished,
            stopped: self.stopped,
            rng_state: self.rng_state,
            learning_rate: self.learning_rate,
            best: self.best.as_ref().map(|b| BestHeader {
                val_loss: b.val_loss,
                epoch: b.epoch,
            }),
            since_best: self.since_best,
            plateau_best: self.plateau_best,
            plateau_wait: self.plateau_wait,
            history: self.history.iter().map(Record::from).collect(),
            done_batches: self.done_batches,
            seen_samples: self.seen_samples,
            elapsed_secs: self.elapsed_secs,
            tensor_bytes: tensors.len() as u64,
        };
        let json = serde_json::to_vec(&header)
            .map_err(|e| TrainError::Io(format!("checkpoint {}: {e}", path.display())))?;
        let json_len = u32::try_from(json.len()).map_err(|_| {
            TrainError::Invalid(format!(
                "checkpoint {}: the header is larger than 4 GiB",
                path.display()
            ))
        })?;
        ktrdr_atomicfile::write_atomic(path, |w: &mut dyn Write| {
            w.write_all(MAGIC)?;
            w.write_all(&json_len.to_le_bytes())?;
            w.write_all(&json)?;
            w.write_all(&tensors)
        })
        .map_err(|e| TrainError::Io(format!("write checkpoint {}: {e}", path.display())))
    }

    /// Reads a checkpoint, its tensors onto `device`. Checks the format only: whether it fits a
    /// training is the trainer's question.
    pub fn read(path: &Path, device: Device) -> Result<Checkpoint, TrainError> {
        let bytes = std::fs::read(path)
            .map_err(|e| TrainError::Io(format!("read checkpoint {}: {e}", path.display())))?;
        let bad = |what: String| {
            TrainError::Invalid(format!(
                "checkpoint {} {what}; delete it to start the training over",
                path.display()
            ))
        };
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            return Err(bad("is not a ktrdr training checkpoint".into()));
        }
        if bytes.len() < PREAMBLE {
            return Err(bad("is truncated".into()));
        }
        let mut len = [0u8; 4];
        len.copy_from_slice(&bytes[MAGIC.len()..PREAMBLE]);
        let json_end = PREAMBLE.saturating_add(u32::from_le_bytes(len) as usize);
        let Some(json) = bytes.get(PREAMBLE..json_end) else {
            return Err(bad(format!("is truncated ({} bytes)", bytes.len())));
        };
        let h: Header =
            serde_json::from_slice(json).map_err(|e| bad(format!("has a damaged header ({e})")))?;
        let expected = (json_end as u64).saturating_add(h.tensor_bytes);
        if bytes.len() as u64 != expected {
            return Err(bad(format!(
                "is truncated or damaged ({} bytes, {expected} expected)",
                bytes.len()
            )));
        }
        let loaded =
            Tensor::load_multi_from_stream_with_device(Cursor::new(&bytes[json_end..]), device)
                .map_err(|e| bad(format!("has damaged tensors ({e})")))?;
        let (mut weights, mut optimizer, mut best_weights, mut order) =
            (Vec::new(), Vec::new(), Vec::new(), None);
        for (name, t) in loaded {
            if name == ORDER {
                order = Some(t);
            } else if let Some(n) = name.strip_prefix(MODEL) {
                weights.push((n.to_string(), t));
            } else if let Some(n) = name.strip_prefix(OPTIM) {
                optimizer.push((n.to_string(), t));
            } else if let Some(n) = name.strip_prefix(BEST) {
                best_weights.push((n.to_string(), t));
            } else {
                return Err(bad(format!("holds an unexpected tensor {name:?}")));
            }
        }
        let order = match order {
            Some(t) if t.kind() == Kind::Int64 && t.dim() == 1 => {
                Vec::<i64>::try_from(&t.to_device(Device::Cpu))
                    .map_err(|e| bad(format!("has a damaged row order ({e})")))?
            }
            _ => return Err(bad("has no row order".into())),
        };
        let best = match h.best {
            Some(b) if !best_weights.is_empty() => Some(Best {
                val_loss: b.val_loss,
                epoch: b.epoch,
                weights: best_weights,
            }),
            None if best_weights.is_empty() => None,
            _ => {
                return Err(bad(
                    "has a best epoch without its weights, or the reverse".into()
                ));
            }
        };
        if h.history.len() != h.epochs_finished {
            return Err(bad(format!(
                "records {} epochs for {} finished",
                h.history.len(),
                h.epochs_finished
            )));
        }
        Ok(Checkpoint {
            fingerprint: h.fingerprint,
            epochs_finished: h.epochs_finished,
            stopped: h.stopped,
            rng_state: h.rng_state,
            learning_rate: h.learning_rate,
            best,
            since_best: h.since_best,
            plateau_best: h.plateau_best,
            plateau_wait: h.plateau_wait,
            history: h.history.into_iter().map(EpochRecord::from).collect(),
            done_batches: h.done_batches,
            seen_samples: h.seen_samples,
            elapsed_secs: h.elapsed_secs,
            order,
            weights,
            optimizer,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Checkpoint {
        let w = |v: f32| vec![("l.weight".to_string(), Tensor::from_slice(&[v, 2.0, 3.0]))];
        Checkpoint {
            fingerprint: "fp".into(),
            epochs_finished: 1,
            stopped: false,
            rng_state: u64::MAX - 3,
            learning_rate: 0.1 + 0.2,
            best: Some(Best {
                val_loss: 1.0 / 3.0,
                epoch: 1,
                weights: w(5.0),
            }),
            since_best: 0,
            plateau_best: f64::INFINITY,
            plateau_wait: 2,
            history: vec![EpochRecord {
                epoch: 1,
                train_loss: 0.7,
                train_accuracy: 0.1,
                val_loss: 1.0 / 3.0,
                val_accuracy: 2.0 / 3.0,
                learning_rate: 0.1 + 0.2,
            }],
            done_batches: 10,
            seen_samples: 300,
            elapsed_secs: 1.25,
            order: vec![2, 0, 1],
            weights: w(1.0),
            optimizer: vec![(
                "l.weight/step".into(),
                Tensor::scalar_tensor(4, (Kind::Int64, Device::Cpu)),
            )],
        }
    }

    #[test]
    fn round_trips_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ck");
        sample().write(&path).unwrap();
        let c = Checkpoint::read(&path, Device::Cpu).unwrap();
        let s = sample();
        assert_eq!(c.learning_rate.to_bits(), s.learning_rate.to_bits());
        assert_eq!(c.plateau_best, f64::INFINITY);
        assert_eq!(c.history, s.history);
        assert_eq!(c.order, s.order);
        assert_eq!(c.rng_state, s.rng_state);
        assert_eq!(c.weights[0].0, "l.weight");
        assert!(c.weights[0].1.equal(&s.weights[0].1));
        let best = c.best.unwrap();
        assert_eq!((best.epoch, best.val_loss), (1, 1.0 / 3.0));
        assert!(best.weights[0].1.equal(&s.best.unwrap().weights[0].1));
        assert_eq!(c.optimizer[0].0, "l.weight/step");
        assert_eq!(c.optimizer[0].1.int64_value(&[]), 4);
    }

    #[test]
    fn truncated_foreign_and_mismatched_files_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ck");
        sample().write(&path).unwrap();
        let full = std::fs::read(&path).unwrap();
        for cut in [full.len() - 1, full.len() / 2, 20, 10] {
            std::fs::write(&path, &full[..cut]).unwrap();
            let e = Checkpoint::read(&path, Device::Cpu).err().unwrap();
            let m = e.to_string();
            assert!(matches!(e, TrainError::Invalid(_)), "{m}");
            assert!(m.contains(&path.display().to_string()), "{m}");
            assert!(m.contains("truncated") || m.contains("damaged"), "{m}");
        }
        std::fs::write(&path, b"{\"not\": \"a checkpoint\"}").unwrap();
        let m = Checkpoint::read(&path, Device::Cpu)
            .err()
            .unwrap()
            .to_string();
        assert!(m.contains("not a ktrdr training checkpoint"), "{m}");

        std::fs::write(&path, &full).unwrap();
        let spec = CheckpointSpec {
            path: path.clone(),
            fingerprint: "other".into(),
        };
        let m = spec.load(Device::Cpu).err().unwrap().to_string();
        assert!(m.contains("belongs to another training"), "{m}");
        let spec = CheckpointSpec {
            fingerprint: "fp".into(),
            ..spec
        };
        assert!(spec.load(Device::Cpu).unwrap().is_some());
        spec.remove().unwrap();
        assert!(spec.load(Device::Cpu).unwrap().is_none());
        spec.remove().unwrap();
    }
}
