//! The table of indicator definitions: what the daemon lists, what strategy files may name.

use super::{Args, Inputs, momentum, trend, volatility, volume};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// A whole number of bars, at least 1.
    Period,
    /// A real number greater than zero.
    Positive,
}

impl ParamKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ParamKind::Period => "period",
            ParamKind::Positive => "positive",
        }
    }

    pub(crate) fn check(self, v: f64) -> Result<(), &'static str> {
        match self {
            ParamKind::Period if v.fract() == 0.0 && (1.0..=1e6).contains(&v) => Ok(()),
            ParamKind::Period => Err("must be a whole number of bars from 1 to 1000000"),
            ParamKind::Positive if v.is_finite() && v > 0.0 => Ok(()),
            ParamKind::Positive => Err("must be a number greater than 0"),
        }
    }
}

#[derive(Debug, PartialEq)]
pub struct ParamDef {
    pub name: &'static str,
    pub kind: ParamKind,
    pub default: f64,
    pub doc: &'static str,
}

type Compute = fn(&Inputs, &Args) -> Vec<Vec<f64>>;
/// One output alone, for indicators where that is cheaper than all of them; `None` when this
/// output or this input has no such path (the caller then takes it from [`Compute`]'s). Must give
/// the same bits as that output of [`Compute`].
type ComputeOne = fn(&Inputs, &Args, usize) -> Option<Vec<f64>>;
/// Checks between parameters (fast < slow); returns (parameter index, message) per problem.
type Check = fn(&[f64]) -> Vec<(usize, String)>;

#[derive(Debug)]
pub struct IndicatorDef {
    pub name: &'static str,
    /// Other spellings accepted in strategy files (the predecessor's class-style names).
    pub aliases: &'static [&'static str],
    pub title: &'static str,
    pub params: &'static [ParamDef],
    /// Whether a `source` parameter (close, open, hl2, ...; default close) is accepted.
    pub takes_source: bool,
    /// Sub-output suffixes after the main output.
    pub outputs: &'static [&'static str],
    pub uses_volume: bool,
    /// Which leading rows are undefined, in words.
    pub warmup: &'static str,
    pub(crate) compute: Compute,
    pub(crate) compute_one: Option<ComputeOne>,
    pub(crate) check: Check,
}

impl PartialEq for IndicatorDef {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl IndicatorDef {
    /// A rough one-thread cost per row (1 light, 2 typical, 3 heavy), used only to start the
    /// longest work items first when indicators are computed in parallel; results never depend
    /// on it. Heavy: several chained recursions (ADX), window extremes plus a smoothing recursion
    /// (stochastic), two passes per window (Bollinger), as measured in the strategy benchmark
    /// (docs/strategy.md); light: elementwise against a past row. The rest are not measured.
    pub(crate) fn relative_cost(&self) -> usize {
        match self.name {
            "adx" | "stochastic" | "bbands" => 3,
            "roc" | "momentum" => 1,
            _ => 2,
        }
    }

    /// Whether output `output` is a price (drawn over the candles) rather than an oscillator or a
    /// volume measure (drawn in a pane of its own). Bollinger's width and %b and SuperTrend's
    /// direction are not prices.
    pub fn on_price_scale(&self, output: usize) -> bool {
        match self.name {
            "sma" | "ema" | "vwap" | "donchian" | "keltner" | "psar" | "ichimoku" => true,
            "bbands" => output <= 2,
            "supertrend" => output == 0,
            _ => false,
        }
    }

    pub fn param_names(&self) -> Vec<&'static str> {
        let mut v: Vec<_> = self.params.iter().map(|p| p.name).collect();
        if self.takes_source {
            v.push("source");
        }
        v
    }
}

const fn period(name: &'static str, default: f64, doc: &'static str) -> ParamDef {
    ParamDef {
        name,
        kind: ParamKind::Period,
        default,
        doc,
    }
}

const fn positive(name: &'static str, default: f64, doc: &'static str) -> ParamDef {
    ParamDef {
        name,
        kind: ParamKind::Positive,
        default,
        doc,
    }
}

fn no_check(_: &[f64]) -> Vec<(usize, String)> {
    Vec::new()
}

/// Parameter `a` must be below parameter `b` (MACD's fast < slow, Ichimoku's tenkan < kijun).
fn less(v: &[f64], a: usize, b: usize, names: (&str, &str)) -> Vec<(usize, String)> {
    if v[a] < v[b] {
        Vec::new()
    } else {
        vec![(
            a,
            format!(
                "{} ({}) must be less than {} ({})",
                names.0, v[a], names.1, v[b]
            ),
        )]
    }
}

static REGISTRY: &[IndicatorDef] = &[
    IndicatorDef {
        name: "sma",
        aliases: &["simple_moving_average", "simplemovingaverage"],
        title: "Simple moving average",
        params: &[period("period", 20.0, "bars averaged")],
        takes_source: true,
        outputs: &[],
        uses_volume: false,
        warmup: "period - 1 rows",
        compute: trend::sma,
        compute_one: None,
        check: no_check,
    },
    IndicatorDef {
        name: "ema",
        aliases: &["exponential_moving_average", "exponentialmovingaverage"],
        title: "Exponential moving average (alpha = 2 / (period + 1), seeded with the SMA)",
        params: &[period("period", 20.0, "span")],
        takes_source: true,
        outputs: &[],
        uses_volume: false,
        warmup: "period - 1 rows",
        compute: trend::ema,
        compute_one: None,
        check: no_check,
    },
    IndicatorDef {
        name: "rsi",
        aliases: &["rsiindicator"],
        title: "Relative strength index, Wilder smoothing; 50 when the window is flat",
        params: &[period("period", 14.0, "Wilder smoothing length")],
        takes_source: true,
        outputs: &[],
        uses_volume: false,
        warmup: "period rows",
        compute: momentum::rsi,
        compute_one: None,
        check: no_check,
    },
    IndicatorDef {
        name: "macd",
        aliases: &["macdindicator"],
        title: "MACD: EMA(fast) - EMA(slow); signal = EMA(signal) of the line; hist = line - signal",
        params: &[
            period("fast_period", 12.0, "fast EMA span"),
            period("slow_period", 26.0, "slow EMA span"),
            period("signal_period", 9.0, "signal EMA span"),
        ],
        takes_source: true,
        outputs: &["signal", "hist"],
        uses_volume: false,
        warmup: "line: slow_period - 1 rows; signal and hist: slow_period + signal_period - 2 rows",
        compute: trend::macd,
        compute_one: Some(trend::macd_one),
        check: |v| less(v, 0, 1, ("fast_period", "slow_period")),
    },
    IndicatorDef {
        name: "bbands",
        aliases: &[
            "bollinger_bands",
            "bollingerbands",
            "bollingerbandsindicator",
        ],
        title: "Bollinger Bands: SMA +/- multiplier * population std; width = (upper - lower) / middle; \
                percent_b = (close - lower) / (upper - lower), 0.5 when the bands touch",
        params: &[
            period("period", 20.0, "window"),
            positive("multiplier", 2.0, "standard deviations"),
        ],
        takes_source: true,
        outputs: &["upper", "lower", "width", "percent_b"],
        uses_volume: false,
        warmup: "period - 1 rows",
        compute: volatility::bbands,
        compute_one: Some(volatility::bbands_one),
        check: no_check,
    },
    IndicatorDef {
        name: "atr",
        aliases: &["average_true_range", "atrindicator"],
        title: "Average true range, Wilder smoothing of the true range (which needs a previous close)",
        params: &[period("period", 14.0, "Wilder smoothing length")],
        takes_source: false,
        outputs: &[],
        uses_volume: false,
        warmup: "period rows",
        compute: volatility::atr,
        compute_one: None,
        check: no_check,
    },
    IndicatorDef {
        name: "stochastic",
        aliases: &["stoch", "stochasticindicator"],
        title: "Stochastic oscillator: %K = SMA(smooth_k) of 100 * (close - LL) / (HH - LL) (50 when \
                HH = LL); d = SMA(d_period) of %K",
        params: &[
            period("k_period", 14.0, "high/low window"),
            period("d_period", 3.0, "%D smoothing"),
            period("smooth_k", 3.0, "%K smoothing (1 = fast stochastic)"),
        ],
        takes_source: false,
        outputs: &["d"],
        uses_volume: false,
        warmup: "%K: k_period + smooth_k - 2 rows; d: k_period + smooth_k + d_period - 3 rows",
        compute: momentum::stochastic,
        compute_one: Some(momentum::stochastic_one),
        check: no_check,
    },
    IndicatorDef {
        name: "williams_r",
        aliases: &["williams", "williamsr", "williamsrindicator", "willr"],
        title: "Williams %R: -100 * (HH - close) / (HH - LL), -50 when HH = LL",
        params: &[period("period", 14.0, "high/low window")],
        takes_source: false,
        outputs: &[],
        uses_volume: false,
        warmup: "period - 1 rows",
        compute: momentum::williams_r,
        compute_one: None,
        check: no_check,
    },
    IndicatorDef {
        name: "cci",
        aliases: &["commodity_channel_index", "cciindicator"],
        title: "Commodity channel index: (tp - SMA(tp)) / (0.015 * mean absolute deviation); 0 when \
                the deviation is 0",
        params: &[period("period", 20.0, "window")],
        takes_source: false,
        outputs: &[],
        uses_volume: false,
        warmup: "period - 1 rows",
        compute: momentum::cci,
        compute_one: None,
        check: no_check,
    },
    IndicatorDef {
        name: "roc",
        aliases: &["rate_of_change", "rocindicator"],
        title: "Rate of change: 100 * (x - x[period ago]) / x[period ago]; NaN when that is 0",
        params: &[period("period", 10.0, "look-back")],
        takes_source: true,
        outputs: &[],
        uses_volume: false,
        warmup: "period rows",
        compute: momentum::roc,
        compute_one: None,
        check: no_check,
    },
    IndicatorDef {
        name: "momentum",
        aliases: &["mom", "momentumindicator"],
        title: "Momentum: x - x[period ago]",
        params: &[period("period", 10.0, "look-back")],
        takes_source: true,
        outputs: &[],
        uses_volume: false,
        warmup: "period rows",
        compute: momentum::momentum,
        compute_one: None,
        check: no_check,
    },
    IndicatorDef {
        name: "obv",
        aliases: &["on_balance_volume", "obvindicator"],
        title: "On-balance volume: cumulative sign(close change) * volume from 0 at the first bar; NaN \
                until a bar has volume",
        params: &[],
        takes_source: false,
        outputs: &[],
        uses_volume: true,
        warmup: "rows before the first bar with volume",
        compute: volume::obv,
        compute_one: None,
        check: no_check,
    },
    IndicatorDef {
        name: "mfi",
        aliases: &["money_flow_index", "mfiindicator"],
        title: "Money flow index: 100 * positive / (positive + negative) typical-price money flow; 50 \
                when the typical price did not move; NaN when the window has no volume",
        params: &[period("period", 14.0, "window of price changes")],
        takes_source: false,
        outputs: &[],
        uses_volume: true,
        warmup: "period rows",
        compute: volume::mfi,
        compute_one: None,
        check: no_check,
    },
    IndicatorDef {
        name: "vwap",
        aliases: &["rolling_vwap", "vwapindicator"],
        title: "Rolling volume-weighted average typical price; NaN when the window has no volume",
        params: &[period("period", 20.0, "window")],
        takes_source: false,
        outputs: &[],
        uses_volume: true,
        warmup: "period - 1 rows",
        compute: volume::vwap,
        compute_one: None,
        check: no_check,
    },
    IndicatorDef {
        name: "adx",
        aliases: &["average_directional_index", "adxindicator"],
        title: "Average directional index with +DI and -DI, Wilder smoothing throughout",
        params: &[period("period", 14.0, "Wilder smoothing length")],
        takes_source: false,
        outputs: &["plus_di", "minus_di"],
        uses_volume: false,
        warmup: "ADX: 2 * period - 1 rows; +DI/-DI: period rows",
        compute: trend::adx,
        compute_one: Some(trend::adx_one),
        check: no_check,
    },
    IndicatorDef {
        name: "aroon",
        aliases: &["aroonindicator"],
        title: "Aroon over period + 1 bars: up/down = 100 * (period - bars since the extreme) / period \
                (the latest extreme on ties); main output = up - down",
        params: &[period("period", 25.0, "look-back")],
        takes_source: false,
        outputs: &["up", "down"],
        uses_volume: false,
        warmup: "period rows",
        compute: trend::aroon,
        compute_one: None,
        check: no_check,
    },
    IndicatorDef {
        name: "donchian",
        aliases: &[
            "donchian_channels",
            "donchianchannels",
            "donchianchannelsindicator",
        ],
        title: "Donchian channel: highest high, lowest low and their midpoint (main output)",
        params: &[period("period", 20.0, "window")],
        takes_source: false,
        outputs: &["upper", "lower"],
        uses_volume: false,
        warmup: "period - 1 rows",
        compute: volatility::donchian,
        compute_one: None,
        check: no_check,
    },
    IndicatorDef {
        name: "keltner",
        aliases: &[
            "keltner_channels",
            "keltnerchannels",
            "keltnerchannelsindicator",
        ],
        title: "Keltner channel: EMA(period) of close (main output) +/- multiplier * ATR(atr_period)",
        params: &[
            period("period", 20.0, "EMA span"),
            period("atr_period", 10.0, "ATR length"),
            positive("multiplier", 2.0, "ATR multiples"),
        ],
        takes_source: false,
        outputs: &["upper", "lower"],
        uses_volume: false,
        warmup: "middle: period - 1 rows; bands: max(period - 1, atr_period) rows",
        compute: volatility::keltner,
        compute_one: None,
        check: no_check,
    },
    IndicatorDef {
        name: "psar",
        aliases: &["parabolic_sar", "parabolicsar", "parabolicsarindicator"],
        title: "Parabolic SAR; the first trend is up when close[1] >= close[0]",
        params: &[
            positive("step", 0.02, "acceleration step"),
            positive("max_step", 0.2, "acceleration cap"),
        ],
        takes_source: false,
        outputs: &[],
        uses_volume: false,
        warmup: "1 row",
        compute: trend::psar,
        compute_one: None,
        check: |v| {
            if v[0] <= v[1] {
                Vec::new()
            } else {
                vec![(
                    0,
                    format!("step ({}) must not exceed max_step ({})", v[0], v[1]),
                )]
            }
        },
    },
    IndicatorDef {
        name: "supertrend",
        aliases: &["super_trend", "supertrendindicator"],
        title: "SuperTrend on hl2 +/- multiplier * ATR(period); direction +1 (up) or -1 (down)",
        params: &[
            period("period", 10.0, "ATR length"),
            positive("multiplier", 3.0, "ATR multiples"),
        ],
        takes_source: false,
        outputs: &["direction"],
        uses_volume: false,
        warmup: "period rows",
        compute: trend::supertrend,
        compute_one: None,
        check: no_check,
    },
    IndicatorDef {
        name: "cmf",
        aliases: &["chaikin_money_flow", "chaikinmoneyflow", "cmfindicator"],
        title: "Chaikin money flow: sum(money-flow multiplier * volume) / sum(volume); the multiplier \
                is 0 on a bar with high = low; NaN when the window has no volume",
        params: &[period("period", 20.0, "window")],
        takes_source: false,
        outputs: &[],
        uses_volume: true,
        warmup: "period - 1 rows",
        compute: volume::cmf,
        compute_one: None,
        check: no_check,
    },
    IndicatorDef {
        name: "ichimoku",
        aliases: &["ichimoku_cloud", "ichimokuindicator"],
        title: "Ichimoku: tenkan (main output), kijun, senkou_a and senkou_b shifted forward by \
                displacement. No chikou span: it is the close shifted backwards, i.e. future data",
        params: &[
            period("tenkan_period", 9.0, "conversion line window"),
            period("kijun_period", 26.0, "base line window"),
            period("senkou_b_period", 52.0, "leading span B window"),
            period("displacement", 26.0, "forward shift of the leading spans"),
        ],
        takes_source: false,
        outputs: &["kijun", "senkou_a", "senkou_b"],
        uses_volume: false,
        warmup: "tenkan: tenkan_period - 1; kijun: kijun_period - 1; senkou_a: kijun_period - 1 + \
                 displacement; senkou_b: senkou_b_period - 1 + displacement rows",
        compute: trend::ichimoku,
        compute_one: None,
        check: |v| {
            let mut p = less(v, 0, 1, ("tenkan_period", "kijun_period"));
            p.extend(less(v, 1, 2, ("kijun_period", "senkou_b_period")));
            p
        },
    },
];

pub fn registry() -> &'static [IndicatorDef] {
    REGISTRY
}

pub fn names() -> Vec<&'static str> {
    REGISTRY.iter().map(|d| d.name).collect()
}

/// The definition called `name` or one of its aliases, ignoring case and `-`/`_`/spaces.
pub fn find(name: &str) -> Option<&'static IndicatorDef> {
    let key = |s: &str| -> String {
        s.chars()
            .filter(|c| !matches!(c, '-' | '_' | ' '))
            .flat_map(char::to_lowercase)
            .collect()
    };
    let want = key(name);
    REGISTRY
        .iter()
        .find(|d| key(d.name) == want || d.aliases.iter().any(|a| key(a) == want))
}
