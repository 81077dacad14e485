//! Chronological train / validation / test split. Rows stay in time order and each part is one
//! contiguous block, so no future row leaks into an earlier part's statistics; nothing is shuffled.

use std::ops::Range;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Split {
    pub train: f64,
    pub validation: f64,
    pub test: f64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitRanges {
    pub train: Range<usize>,
    pub validation: Range<usize>,
    pub test: Range<usize>,
}

impl Split {
    /// Fractions that the strategy validation has checked sum to 1.
    pub fn new(train: f64, validation: f64, test: f64) -> Self {
        Split {
            train,
            validation,
            test,
        }
    }

    /// Row ranges for `n` rows: train first, then validation, then test, which takes the rounding
    /// remainder so that every row belongs to exactly one part.
    pub fn ranges(&self, n: usize) -> SplitRanges {
        let train = ((n as f64) * self.train).floor() as usize;
        let validation = ((n as f64) * self.validation).floor() as usize;
        let train = train.min(n);
        let val_end = (train + validation).min(n);
        SplitRanges {
            train: 0..train,
            validation: train..val_end,
            test: val_end..n,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parts_are_contiguous_and_in_order() {
        let r = Split::new(0.7, 0.15, 0.15).ranges(100);
        assert_eq!(r.train, 0..70);
        assert_eq!(r.validation, 70..85);
        assert_eq!(r.test, 85..100);
    }

    proptest! {
        #[test]
        fn every_row_is_in_exactly_one_part(n in 0usize..10_000, a in 0.0f64..1.0, b in 0.0f64..1.0) {
            let train = a;
            let validation = (1.0 - a) * b;
            let test = 1.0 - train - validation;
            let r = Split::new(train, validation, test).ranges(n);
            prop_assert_eq!(r.train.start, 0);
            prop_assert_eq!(r.train.end, r.validation.start);
            prop_assert_eq!(r.validation.end, r.test.start);
            prop_assert_eq!(r.test.end, n);
        }
    }
}
