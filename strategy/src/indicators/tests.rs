use super::*;
use ktrdr_market::synth::{Spec, generate};

fn bars(n: usize) -> Bars {
    generate(&Spec {
        bars: n,
        ..Spec::default()
    })
}

fn defaults(name: &str) -> Indicator {
    Indicator::new(name, &[]).unwrap()
}

fn first_defined(col: &[f64]) -> Option<usize> {
    col.iter().position(|v| !v.is_nan())
}

#[test]
fn names_carry_parameters_and_sub_outputs() {
    assert_eq!(defaults("rsi").output_names(), ["rsi_14"]);
    assert_eq!(
        defaults("MACD").output_names(),
        ["macd_12_26_9", "macd_12_26_9.signal", "macd_12_26_9.hist"]
    );
    assert_eq!(defaults("bollinger_bands").base_name(), "bbands_20_2");
    assert_eq!(defaults("psar").base_name(), "psar_0.02_0.2");
    let open = Indicator::new("sma", &[("source".into(), ParamValue::Text("open".into()))]);
    assert_eq!(open.unwrap().base_name(), "sma_20_open");
}

#[test]
fn every_problem_is_reported() {
    let given = [
        ("fast_period".to_string(), ParamValue::Int(30)),
        ("slow_period".to_string(), ParamValue::Float(2.5)),
        ("colour".to_string(), ParamValue::Text("red".into())),
    ];
    let problems = Indicator::new("macd", &given).unwrap_err();
    let params: Vec<_> = problems.iter().map(|p| p.param.as_deref()).collect();
    assert_eq!(params, [Some("slow_period"), Some("colour")]);
    let cross = Indicator::new("macd", &given[..1]).unwrap_err();
    assert_eq!(cross[0].param.as_deref(), Some("fast_period"));
    assert!(cross[0].message.contains("less than"), "{cross:?}");
    assert!(Indicator::new("nope", &[]).is_err());
    let zero = [("period".to_string(), ParamValue::Int(0))];
    assert!(Indicator::new("rsi", &zero).is_err());
}

#[test]
fn text_parameters_parse_as_numbers() {
    let given = [("period".to_string(), ParamValue::Text("7".into()))];
    assert_eq!(Indicator::new("rsi", &given).unwrap().base_name(), "rsi_7");
}

/// The documented warm-up of each main output, with default parameters.
#[test]
fn warm_up_matches_the_documentation() {
    let expected = [
        ("sma", 19),
        ("ema", 19),
        ("rsi", 14),
        ("macd", 25),
        ("bbands", 19),
        ("atr", 14),
        ("stochastic", 15),
        ("williams_r", 13),
        ("cci", 19),
        ("roc", 10),
        ("momentum", 10),
        ("obv", 0),
        ("mfi", 14),
        ("vwap", 19),
        ("adx", 27),
        ("aroon", 25),
        ("donchian", 19),
        ("keltner", 19),
        ("psar", 1),
        ("supertrend", 10),
        ("cmf", 19),
        ("ichimoku", 8),
    ];
    assert_eq!(expected.len(), registry().len());
    let b = bars(400);
    for (name, warm) in expected {
        let ind = defaults(name);
        let cols = ind.compute_bars(&b);
        assert_eq!(cols.len(), ind.output_names().len(), "{name}");
        assert_eq!(first_defined(&cols[0]), Some(warm), "{name}");
        for (col, out) in cols.iter().zip(ind.output_names()) {
            assert_eq!(col.len(), b.len(), "{out}");
            let from = first_defined(col).unwrap_or(col.len());
            assert!(
                col[from..].iter().all(|v| v.is_finite()),
                "{out} has a hole"
            );
        }
    }
    let macd = defaults("macd").compute_bars(&b);
    assert_eq!(first_defined(&macd[1]), Some(33));
    let ichi = defaults("ichimoku").compute_bars(&b);
    assert_eq!(first_defined(&ichi[3]), Some(51 + 26));
}

#[test]
fn forex_volume_gives_nan_never_inf() {
    let (ts, o, h, l, c, _) = bars(200).into_columns();
    for fill in [0.0, -1.0] {
        let v = vec![fill; ts.len()];
        let fx =
            Bars::from_columns(ts.clone(), o.clone(), h.clone(), l.clone(), c.clone(), v).unwrap();
        for name in ["obv", "mfi", "vwap", "cmf"] {
            let cols = defaults(name).compute_bars(&fx);
            assert!(
                cols[0].iter().all(|v| v.is_nan()),
                "{name} with volume {fill}"
            );
        }
    }
}

#[test]
fn volume_returning_after_a_gap_is_defined_again() {
    let (ts, o, h, l, c, mut v) = bars(100).into_columns();
    v[30..60].iter_mut().for_each(|x| *x = 0.0);
    let b = Bars::from_columns(ts, o, h, l, c, v).unwrap();
    let vwap = &defaults("vwap").compute_bars(&b)[0];
    // Windows of 20 lie wholly inside the gap for rows 49..=59.
    assert!(vwap[49..60].iter().all(|x| x.is_nan()));
    assert!(vwap[19..49].iter().all(|x| x.is_finite()));
    assert!(vwap[60..].iter().all(|x| x.is_finite()));
}

#[test]
fn flat_prices_are_defined() {
    let n = 60;
    let flat = Bars::from_columns(
        (0..n as i64).collect(),
        vec![1.0; n],
        vec![1.0; n],
        vec![1.0; n],
        vec![1.0; n],
        vec![5.0; n],
    )
    .unwrap();
    let at_end = |name: &str| *defaults(name).compute_bars(&flat)[0].last().unwrap();
    assert_eq!(at_end("rsi"), 50.0);
    assert_eq!(at_end("stochastic"), 50.0);
    assert_eq!(at_end("williams_r"), -50.0);
    assert_eq!(at_end("cci"), 0.0);
    assert_eq!(at_end("mfi"), 50.0);
    assert_eq!(at_end("cmf"), 0.0);
    assert_eq!(at_end("adx"), 0.0);
}

#[test]
fn empty_and_tiny_series_do_not_panic() {
    for len in [0, 1, 2, 3] {
        let b = bars(len);
        for def in registry() {
            let cols = Indicator::new(def.name, &[]).unwrap().compute_bars(&b);
            assert!(cols.iter().all(|c| c.len() == len), "{}", def.name);
        }
    }
}

/// The one-pass RSI and ADX are the column-built ones, bit for bit.
#[test]
fn fused_forms_equal_the_general_ones() {
    let b = bars(500);
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    for n in [1, 2, 14, 30] {
        let (general, fused) = super::momentum::rsi_both(b.close(), n);
        assert_eq!(bits(&general), bits(&fused), "rsi {n}");
        let (general, fused) = super::trend::adx_both(&Inputs::from_bars(&b), n);
        for (g, f) in general.iter().zip(&fused) {
            assert_eq!(bits(g), bits(f), "adx {n}");
        }
    }
    let short = bars(10);
    let (general, fused) = super::trend::adx_both(&Inputs::from_bars(&short), 14);
    assert_eq!(general.len(), fused.len());
    assert!(fused.iter().flatten().all(|v| v.is_nan()));
}

#[test]
fn a_nan_inside_the_series_takes_the_general_path() {
    let (ts, o, h, l, mut c, v) = bars(100).into_columns();
    c[50] = f64::NAN;
    let b = Bars::from_columns(ts, o, h, l, c, v).unwrap();
    let rsi = &defaults("rsi").compute_bars(&b)[0];
    assert!(rsi[14..50].iter().all(|x| x.is_finite()));
    assert!(rsi[50].is_nan() && rsi[51].is_nan(), "{:?}", &rsi[48..53]);
}

/// Every output on its own is the same bits as that output of the whole indicator, with or without
/// a NaN in the series (which sends both through their general paths).
#[test]
fn one_output_equals_that_output_of_all() {
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    let (ts, o, h, l, mut c, v) = bars(1500).into_columns();
    let clean = Bars::from_columns(
        ts.clone(),
        o.clone(),
        h.clone(),
        l.clone(),
        c.clone(),
        v.clone(),
    )
    .unwrap();
    c[700] = f64::NAN;
    let holed = Bars::from_columns(ts, o, h, l, c, v).unwrap();
    for b in [&clean, &holed] {
        let inp = Inputs::from_bars(b);
        for def in registry() {
            let ind = defaults(def.name);
            let all = ind.compute(&inp);
            for (k, col) in all.iter().enumerate() {
                assert_eq!(
                    bits(&ind.compute_output(&inp, k)),
                    bits(col),
                    "{} output {k}",
                    def.name
                );
            }
            assert!(
                ind.compute_output(&inp, all.len())
                    .iter()
                    .all(|x| x.is_nan())
            );
        }
    }
}

/// The chunked, NaN-free window loops give the bits of the row-by-row general ones: a NaN in the
/// last row sends every indicator through its general path, and no earlier row may change. 2,500
/// rows span several chunks.
#[test]
fn chunked_windows_equal_the_general_path() {
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    let (ts, mut o, mut h, mut l, mut c, v) = bars(2500).into_columns();
    let clean = Bars::from_columns(
        ts.clone(),
        o.clone(),
        h.clone(),
        l.clone(),
        c.clone(),
        v.clone(),
    )
    .unwrap();
    let last = ts.len() - 1;
    for col in [&mut o, &mut h, &mut l, &mut c] {
        col[last] = f64::NAN;
    }
    let holed = Bars::from_columns(ts, o, h, l, c, v).unwrap();
    for def in registry() {
        for n in [1.0, 2.0, 14.0, 20.0, 64.0, 65.0] {
            let mut params = vec![];
            if def
                .params
                .first()
                .is_some_and(|p| p.kind == ParamKind::Period)
                && def.params.len() == 1
            {
                params.push((def.params[0].name.to_string(), ParamValue::Float(n)));
            }
            let Ok(ind) = Indicator::new(def.name, &params) else {
                continue;
            };
            let (a, b) = (ind.compute_bars(&clean), ind.compute_bars(&holed));
            for (k, (a, b)) in a.iter().zip(&b).enumerate() {
                assert_eq!(
                    bits(&a[..last]),
                    bits(&b[..last]),
                    "{} n={n} output {k}",
                    def.name
                );
            }
        }
    }
    for n in [1, 3, 14, 20] {
        let (m1, s1) = crate::series::rolling_mean_std(clean.close(), n);
        let (m2, s2) = crate::series::rolling_mean_std(holed.close(), n);
        assert_eq!(bits(&m1[..last]), bits(&m2[..last]), "mean {n}");
        assert_eq!(bits(&s1[..last]), bits(&s2[..last]), "sd {n}");
    }
}

/// %K, smoothed as the positions stream in, is the SMA of the whole position column, bit for bit.
#[test]
fn streamed_stochastic_equals_the_column_form() {
    let b = bars(3000);
    let (hh, ll) = (
        crate::series::rolling_max(b.high(), 14),
        crate::series::rolling_min(b.low(), 14),
    );
    let raw: Vec<f64> = (0..b.len())
        .map(|i| {
            let r = hh[i] - ll[i];
            if r.is_nan() {
                f64::NAN
            } else if r == 0.0 {
                50.0
            } else {
                (b.close()[i] - ll[i]) / r * 100.0
            }
        })
        .collect();
    let want = crate::series::sma(&raw, 3);
    let got = &defaults("stochastic").compute_bars(&b)[0];
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(got), bits(&want));
}

#[test]
fn source_and_parameter_type_problems_name_the_parameter() {
    let text = |k: &str, v: &str| (k.to_string(), ParamValue::Text(v.into()));
    let bad_source = Indicator::new("sma", &[text("source", "median")]).unwrap_err();
    assert_eq!(bad_source[0].param.as_deref(), Some("source"));
    assert!(
        bad_source[0]
            .message
            .starts_with("unknown source \"median\" (expected one of open, high"),
        "{bad_source:?}"
    );
    let numeric_source =
        Indicator::new("sma", &[("source".into(), ParamValue::Int(3))]).unwrap_err();
    assert_eq!(
        numeric_source[0].message,
        "source must be one of open, high, low, close, volume, hl2, hlc3, ohlc4, got 3"
    );
    let not_a_number =
        Indicator::new("rsi", &[("period".into(), ParamValue::Bool(true))]).unwrap_err();
    assert_eq!(not_a_number[0].message, "period must be a number, got true");
    // obv takes no source: the key is an unknown parameter there.
    let no_source = Indicator::new("obv", &[text("source", "open")]).unwrap_err();
    assert!(
        no_source[0]
            .message
            .contains("obv has no parameter \"source\""),
        "{no_source:?}"
    );
    // psar's cross-parameter rule.
    let psar = Indicator::new(
        "psar",
        &[
            ("step".into(), ParamValue::Float(0.5)),
            ("max_step".into(), ParamValue::Float(0.2)),
        ],
    )
    .unwrap_err();
    assert_eq!(psar[0].param.as_deref(), Some("step"));
    assert_eq!(psar[0].message, "step (0.5) must not exceed max_step (0.2)");
}

#[test]
fn resolved_parameters_include_defaults_and_the_source() {
    let given = [
        ("period".to_string(), ParamValue::Int(10)),
        ("source".to_string(), ParamValue::Text("HLC3".into())),
    ];
    let ind = Indicator::new("sma", &given).unwrap();
    assert_eq!(ind.params(), [("period", 10.0)]);
    assert_eq!(ind.source(), Source::Hlc3);
    assert_eq!(
        defaults("bbands").params(),
        [("period", 20.0), ("multiplier", 2.0)]
    );
    assert_eq!(registry::ParamKind::Period.as_str(), "period");
    assert_eq!(registry::ParamKind::Positive.as_str(), "positive");
    let (empty, some) = (bars(0), bars(5));
    assert!(Inputs::from_bars(&empty).is_empty());
    let inp = Inputs::from_bars(&some);
    assert_eq!((inp.len(), inp.is_empty()), (5, false));
}
