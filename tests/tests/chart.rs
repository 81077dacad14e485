//! Charts end to end: a stored series with indicators, a strategy's fuzzy strip and a backtest
//! drawn by the real ktrdrd as PNG, SVG and HTML through the real ktrdrctl; the HTML and the
//! backtest report opened in headless Chromium (DevTools protocol), which must draw the canvases,
//! log no errors, fetch nothing, and show a known bar's values under the crosshair.
//!
//! Set KTRDR_CHART_SHOTS=DIR to keep the outputs and screenshots for a person to look at.

use ktrdr_tests::cdp::{self, Browser};
use ktrdr_tests::{Daemon, stderr, stdout};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const STRATEGY: &str = r#"
name: rsi_mean_reversion
version: "2.0"
training_data: {symbols: {mode: single_symbol, list: [EURUSD]}, timeframes: {mode: single_timeframe, list: [1h]}, history_required: 200}
indicators: [{name: rsi, period: 14, source: close}, {name: macd, fast_period: 12, slow_period: 26, signal_period: 9}]
fuzzy_sets: {rsi: {oversold: {type: triangular, parameters: [0, 20, 35]}, neutral: {type: triangular, parameters: [30, 50, 70]}, overbought: {type: triangular, parameters: [65, 80, 100]}}}
model: {type: mlp, architecture: {hidden_layers: [50, 25], activation: relu, dropout: 0.2}, features: {lookback_periods: 2}, training: {learning_rate: 0.001, batch_size: 32, epochs: 5, optimizer: adam, early_stopping: {patience: 10, min_delta: 0.0001}, seed: 7}}
decisions: {confidence_threshold: 0.34, position_awareness: true, filters: {min_signal_separation: 4}}
training: {labels: {source: zigzag, zigzag_threshold: 0.01}, data_split: {train: 0.7, validation: 0.15, test: 0.15}}
"#;

const MODEL: &str = "rsi_mean_reversion/EURUSD_1h_v1";
/// A bar inside the backtest's range whose values the crosshair must show.
const KNOWN_BAR: &str = "2025-04-10T14:00:00Z";

/// The lightweight-charts directory, fetched (pinned, integrity-checked, cached) by the script.
fn js_dir() -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/fetch-charts-js.sh");
    let o = Command::new("bash")
        .arg(script)
        .output()
        .expect("run fetch-charts-js.sh");
    assert!(o.status.success(), "fetch-charts-js.sh: {}", stderr(&o));
    stdout(&o).trim().to_string()
}

fn shots(d: &Daemon) -> PathBuf {
    match std::env::var_os("KTRDR_CHART_SHOTS") {
        Some(dir) => {
            std::fs::create_dir_all(&dir).unwrap();
            PathBuf::from(dir)
        }
        None => d.dir.path().to_path_buf(),
    }
}

fn ok(d: &Daemon, args: &[&str]) -> String {
    let o = d.ctl(args);
    assert!(
        o.status.success(),
        "{args:?}: {}\n{}",
        stderr(&o),
        d.log_text()
    );
    stdout(&o)
}

/// Trained model, a backtest of it, and its trades.
fn backtested(d: &Daemon) -> (String, Vec<Value>) {
    d.import_sample("ktrdr-ib-samples/EURUSD_1h.csv", "EURUSD", "1h");
    let file = d.dir.path().join("strategy.yaml");
    std::fs::write(&file, STRATEGY).unwrap();
    ok(d, &["train", file.to_str().unwrap(), "--end", "2025-03-31"]);
    let out = ok(
        d,
        &[
            "--json",
            "backtest",
            MODEL,
            "--symbol",
            "EURUSD",
            "--timeframe",
            "1h",
            "--start",
            "2025-04-01",
            "--end",
            "2025-06-06",
            "--allow-short",
        ],
    );
    let last: Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    let id = last["operation"]["result"]["id"]
        .as_u64()
        .unwrap()
        .to_string();
    let trades = d.ctl_json(&["backtest", "show", &id, "--trades"])["trades"]
        .as_array()
        .unwrap()
        .clone();
    assert!(!trades.is_empty(), "the backtest has trades to draw");
    (id, trades)
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

/// Opens `file` and waits for the page's script to finish building the chart.
fn open(b: &mut Browser, file: &Path) {
    b.navigate(&format!("file://{}", file.display()));
    assert!(
        b.wait_for(
            "!!(window.ktrdr && window.ktrdr.ready)",
            Duration::from_secs(30)
        ),
        "the page never got ready; errors: {:?}",
        b.errors()
    );
    // Let the chart paint its first frames.
    b.eval("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))");
}

/// The distinct colours drawn on the page's canvases (0 for a blank chart).
fn canvas_colours(b: &mut Browser) -> u64 {
    b.eval(
        r#"(() => { const seen = new Set();
            for (const c of document.querySelectorAll('#chart canvas')) {
              if (!c.width || !c.height) continue;
              const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
              for (let i = 0; i < d.length; i += 4) if (d[i + 3]) seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
            }
            return seen.size; })()"#,
    )
    .as_u64()
    .unwrap()
}

#[test]
fn a_series_with_indicators_fuzzy_strip_and_backtest_is_drawn_as_png_svg_and_html() {
    let d = Daemon::start_with(&[("KTRDR_CHART_JS_DIR", &js_dir())]);
    let (id, trades) = backtested(&d);
    let out = shots(&d);
    let strategy = d.dir.path().join("strategy.yaml");
    let strategy = strategy.to_str().unwrap();
    let base = [
        "chart",
        "EURUSD",
        "1h",
        "--indicator",
        "sma:period=20",
        "--indicator",
        "bbands",
        "--strategy",
        strategy,
        "--fuzzy",
        "rsi",
        "--backtest",
        &id,
    ];
    let expected_panes = [
        "price",
        "position",
        "bbands_20_2.width",
        "rsi_14",
        "fuzzy rsi_14",
        "macd_12_26_9",
        "equity",
        "drawdown",
    ];
    let fills = 2 * trades.len();
    let longs = trades.iter().filter(|t| t["side"] == "Long").count();

    // PNG: decodes, is the default width, and is drawn (hundreds of colours).
    let png = out.join("chart.png");
    let mut args = base.to_vec();
    args.extend(["--output", png.to_str().unwrap()]);
    let v = d.ctl_json(&args);
    assert_eq!(v["format"], "png");
    assert_eq!(v["markers"].as_u64(), Some(fills as u64), "{v}");
    let panes: Vec<&str> = v["panes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(panes, expected_panes, "{v}");
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert!(cdp::distinct_colours(&bytes) > 100, "the PNG is drawn");

    // SVG: one nested <svg class="pane"> per pane in order, one marker per fill.
    let svg_path = out.join("chart.svg");
    let mut args = base.to_vec();
    args.extend(["--style", "ohlc", "--output", svg_path.to_str().unwrap()]);
    ok(&d, &args);
    let svg = std::fs::read_to_string(&svg_path).unwrap();
    let drawn: Vec<&str> = svg
        .split("<svg class=\"pane\" data-pane=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap())
        .collect();
    assert_eq!(drawn, expected_panes);
    let price_pane = svg.split("<svg class=\"pane\"").nth(1).unwrap();
    let long_entries = count(price_pane, "fill=\"#008C3C\"");
    let short_entries = count(price_pane, "fill=\"#C81E1E\"");
    let exits = count(price_pane, "stroke=\"#141414\"");
    assert_eq!(long_entries, longs, "one up-triangle per long entry");
    assert_eq!(
        short_entries,
        trades.len() - longs,
        "one down-triangle per short entry"
    );
    assert_eq!(exits, trades.len(), "one circle per exit");
    assert_eq!(long_entries + short_entries + exits, fills);

    // HTML: self-contained, licence inside, drawn by Chromium, known bar under the crosshair.
    let html = out.join("chart.html");
    let mut args = base.to_vec();
    args.extend(["--output", html.to_str().unwrap()]);
    ok(&d, &args);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("Apache License") && page.contains("TradingView"),
        "licence and notice embedded"
    );
    assert!(!page.contains("<script src"), "no external script");
    let known = d.ctl_json(&[
        "data",
        "show",
        "EURUSD",
        "1h",
        "--start",
        KNOWN_BAR,
        "--end",
        "2025-04-10T15:00:00Z",
    ]);
    let bar = known
        .as_array()
        .map(|a| a[0].clone())
        .unwrap_or(known.clone());
    let close = bar["close"].as_f64().unwrap();
    let rsi = d.ctl_json(&[
        "indicators",
        "compute",
        "EURUSD",
        "1h",
        "--indicator",
        "rsi",
        "--start",
        KNOWN_BAR,
        "--end",
        "2025-04-10T15:00:00Z",
    ]);
    let row = rsi.as_array().map(|a| a[0].clone()).unwrap_or(rsi.clone());
    let rsi_value = row["rsi_14"].as_f64().unwrap_or_else(|| panic!("{rsi}"));

    let mut b = Browser::launch(1400, 1700);
    open(&mut b, &html);
    assert!(canvas_colours(&mut b) > 50, "the canvases are drawn");
    let shot = b.screenshot();
    std::fs::write(out.join("chart-html.png"), &shot).unwrap();
    assert!(
        cdp::distinct_colours(&shot) > 100,
        "the screenshot shows a chart"
    );
    let ts = 1_744_293_600i64; // KNOWN_BAR in seconds
    // Zoom in around the bar (a day and a half each side) so each bar is many pixels wide.
    b.eval(&format!(
        "window.ktrdr.chart.timeScale().setVisibleRange({{from: {}, to: {}}})",
        ts - 36 * 3600,
        ts + 36 * 3600
    ));
    b.eval("new Promise(r => setTimeout(() => requestAnimationFrame(r), 300))");
    let at = b.eval(&format!(
        "(() => {{ const x = window.ktrdr.chart.timeScale().timeToCoordinate({ts});
                  const r = document.getElementById('chart').getBoundingClientRect();
                  return x === null ? null : [r.left + x, r.top + 150]; }})()"
    ));
    let (x, y) = (
        at[0].as_f64().expect("bar on screen"),
        at[1].as_f64().unwrap(),
    );
    b.mouse_move(x, y);
    let want = format!("C {close:.5}");
    assert!(
        b.wait_for(
            &format!("document.getElementById('legend').textContent.includes('2025-04-10 14:00 UTC') && document.getElementById('legend').textContent.includes('{want}')"),
            Duration::from_secs(10)
        ),
        "legend: {}",
        b.eval("document.getElementById('legend').textContent")
    );
    let legend = b.eval("document.getElementById('legend').textContent");
    let legend = legend.as_str().unwrap();
    let shown: f64 = legend
        .split("rsi_14 ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no rsi_14 in {legend}"));
    assert!(
        (shown - rsi_value).abs() < 1e-3,
        "rsi {shown} vs {rsi_value}: {legend}"
    );
    assert!(
        legend.contains("oversold") && legend.contains("strategy"),
        "{legend}"
    );
    let shot = b.screenshot();
    std::fs::write(out.join("chart-html-crosshair.png"), &shot).unwrap();
    assert_eq!(b.errors(), Vec::<String>::new(), "no console errors");
    assert_eq!(b.network(), Vec::<String>::new(), "nothing fetched");

    // The backtest report: tables, the chart, the sortable trade list.
    let report = out.join("report.html");
    ok(
        &d,
        &[
            "backtest",
            "show",
            &id,
            "--report",
            report.to_str().unwrap(),
        ],
    );
    open(&mut b, &report);
    assert!(canvas_colours(&mut b) > 50, "the report's chart is drawn");
    let rows = b.eval("document.querySelectorAll('#trades tbody tr').length");
    assert_eq!(rows.as_u64(), Some(trades.len() as u64));
    let metrics = b.eval("document.getElementById('metrics').textContent");
    assert!(
        metrics.as_str().unwrap().contains("buy and hold"),
        "{metrics}"
    );
    // Sort by pnl (descending after two clicks): the first row has the largest pnl.
    let th = b.eval("(() => { const r = document.querySelectorAll('#trades thead th')[9].getBoundingClientRect(); return [r.left + 5, r.top + 5]; })()");
    b.eval("document.querySelectorAll('#trades thead th')[9].scrollIntoView()");
    let th2 = b.eval("(() => { const r = document.querySelectorAll('#trades thead th')[9].getBoundingClientRect(); return [r.left + 5, r.top + 5]; })()");
    let _ = th;
    let (tx, ty) = (th2[0].as_f64().unwrap(), th2[1].as_f64().unwrap());
    b.click(tx, ty);
    b.click(tx, ty);
    let first = b.eval("Number(document.querySelector('#trades tbody tr').cells[9].textContent)");
    let best = trades
        .iter()
        .map(|t| t["pnl"].as_f64().unwrap())
        .fold(f64::MIN, f64::max);
    assert!(
        (first.as_f64().unwrap() - best).abs() < 0.01,
        "sorted: {first} vs {best}"
    );
    b.eval("window.scrollTo(0, 0)");
    let shot = b.screenshot();
    std::fs::write(out.join("report.png"), &shot).unwrap();
    assert_eq!(
        b.errors(),
        Vec::<String>::new(),
        "no console errors in the report"
    );
    assert_eq!(b.network(), Vec::<String>::new(), "nothing fetched");
}

#[test]
fn chart_errors_are_one_line_with_a_hint() {
    let d = Daemon::start_with(&[("KTRDR_CHART_JS_DIR", "/nonexistent/ktrdr-charts")]);
    d.import_sample("ktrdr-ib-samples/EURUSD_1h.csv", "EURUSD", "1h");
    let dir = d.dir.path();
    // Images need no script; pages say where it should be and how to get it.
    let png = dir.join("a.png");
    ok(
        &d,
        &[
            "chart",
            "EURUSD",
            "1h",
            "--indicator",
            "ema",
            "--output",
            png.to_str().unwrap(),
        ],
    );
    let html = dir.join("a.html");
    let o = d.ctl(&["chart", "EURUSD", "1h", "--output", html.to_str().unwrap()]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("fetch-charts-js.sh") && e.contains("/nonexistent/ktrdr-charts"),
        "{e}"
    );
    assert!(!html.exists(), "nothing written");
    let health = d.ctl_json(&["health"]);
    let chart = health["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "chart")
        .cloned()
        .unwrap_or_else(|| panic!("{health}"));
    assert!(
        chart["detail"]
            .as_str()
            .unwrap()
            .contains("fetch-charts-js.sh"),
        "{chart}"
    );

    for (args, needle) in [
        (
            vec!["chart", "EURUSD", "1h", "--output", "x.gif"],
            ".png, .svg or .html",
        ),
        (
            vec![
                "chart",
                "EURUSD",
                "1h",
                "--indicator",
                "nope",
                "--output",
                "x.png",
            ],
            "indicators list",
        ),
        (vec!["chart", "NOPE", "1h", "--output", "x.png"], "NOPE"),
        (
            vec![
                "chart",
                "EURUSD",
                "1h",
                "--backtest",
                "99",
                "--output",
                "x.png",
            ],
            "99",
        ),
    ] {
        let o = d.ctl(&args);
        assert!(!o.status.success(), "{args:?}");
        let e = stderr(&o);
        assert!(e.contains(needle), "{args:?}: {e}");
    }
    let strategy = dir.join("s.yaml");
    std::fs::write(&strategy, STRATEGY).unwrap();
    let o = d.ctl(&[
        "chart",
        "EURUSD",
        "1h",
        "--strategy",
        strategy.to_str().unwrap(),
        "--fuzzy",
        "volume",
        "--output",
        "x.png",
    ]);
    let e = stderr(&o);
    assert!(!o.status.success() && e.contains("rsi (rsi_14)"), "{e}");
}

/// A long series: the page starts on a coarse level and swaps in every bar when zoomed in.
#[test]
fn a_long_series_page_switches_to_finer_levels_when_zoomed_in() {
    let d = Daemon::start_with(&[("KTRDR_CHART_JS_DIR", &js_dir())]);
    let n = 100_000usize;
    let csv = d.dir.path().join("SYN_1m.csv");
    let mut text = String::from("timestamp,open,high,low,close,volume\n");
    let start = 1_704_067_200i64; // 2024-01-01T00:00:00Z
    let mut price = 100.0f64;
    for i in 0..n {
        let t = start + 60 * i as i64;
        let open = price;
        price *= 1.0 + 0.001 * ((i as f64 * 0.37).sin() + (i as f64 * 0.011).cos() * 0.5);
        let (hi, lo) = (open.max(price) * 1.0005, open.min(price) * 0.9995);
        let secs = t % 86_400;
        let date = ktrdr_market::time::civil_from_days(t.div_euclid(86_400));
        text.push_str(&format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:00,{open:.4},{hi:.4},{lo:.4},{price:.4},{}\n",
            date.0,
            date.1,
            date.2,
            secs / 3600,
            secs % 3600 / 60,
            100 + i % 50
        ));
    }
    std::fs::write(&csv, text).unwrap();
    ok(
        &d,
        &[
            "data",
            "import",
            csv.to_str().unwrap(),
            "--symbol",
            "SYN",
            "--timeframe",
            "1m",
        ],
    );
    let html = shots(&d).join("long.html");
    let v = d.ctl_json(&[
        "chart",
        "SYN",
        "1m",
        "--indicator",
        "sma:period=20",
        "--indicator",
        "ema:period=50",
        "--indicator",
        "rsi",
        "--output",
        html.to_str().unwrap(),
    ]);
    assert_eq!(v["bars"].as_u64(), Some(n as u64));
    let mut b = Browser::launch(1400, 1200);
    open(&mut b, &html);
    let levels = b.eval("window.ktrdr.levels.map(l => l.factor)");
    assert_eq!(
        levels,
        serde_json::json!([1, 8, 64]),
        "every bar, then groups of 8 and 64"
    );
    assert_eq!(
        b.eval("window.ktrdr.current().k"),
        serde_json::json!(2),
        "whole view: coarsest"
    );
    assert!(canvas_colours(&mut b) > 50);
    std::fs::write(shots(&d).join("long-html.png"), b.screenshot()).unwrap();
    // Zoom to 300 bars in the middle: every bar, a slice around the view.
    b.eval("window.ktrdr.chart.timeScale().setVisibleLogicalRange({from: 700, to: 705})");
    assert!(
        b.wait_for("window.ktrdr.current().k === 0", Duration::from_secs(10)),
        "no switch to every bar: {}",
        b.eval("JSON.stringify(window.ktrdr.current())")
    );
    let cur = b.eval("window.ktrdr.current()");
    let loaded = cur["b"].as_u64().unwrap() - cur["a"].as_u64().unwrap();
    assert!(
        loaded < 20_000,
        "only a slice of every bar is loaded: {cur}"
    );
    b.eval("new Promise(r => setTimeout(() => requestAnimationFrame(r), 300))");
    assert!(canvas_colours(&mut b) > 50);
    std::fs::write(shots(&d).join("long-html-zoomed.png"), b.screenshot()).unwrap();
    assert_eq!(b.errors(), Vec::<String>::new());
}
