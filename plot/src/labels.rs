//! Axis label text: UTC dates for bar times, grouped amounts for equity.

use chrono::DateTime;

const DAY_MS: i64 = 86_400_000;

/// A label formatter for bar open times (ms UTC) on an axis spanning `span_ms`: whole dates
/// once the axis covers a few days, with the time of day added on shorter (intraday) axes where
/// every tick would otherwise read the same date.
pub fn time_label(ms: i64, span_ms: i64) -> String {
    let Some(t) = DateTime::from_timestamp_millis(ms) else {
        return String::new();
    };
    if span_ms >= 4 * DAY_MS {
        t.format("%Y-%m-%d").to_string()
    } else {
        t.format("%m-%d %H:%M").to_string()
    }
}

/// An equity amount with thousands separators; cents only when the axis spans so little that
/// whole units would repeat on neighbouring ticks.
pub fn money_label(v: f64, span: f64) -> String {
    let decimals = if span < 20.0 { 2 } else { 0 };
    let text = format!("{:.*}", decimals, v.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let mut grouped = String::with_capacity(text.len() + int.len() / 3 + 1);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if !frac.is_empty() {
        grouped.push('.');
        grouped.push_str(frac);
    }
    // "-0" from a tiny negative rounding to zero would look like a real loss.
    if v < 0.0 && grouped.chars().any(|c| c.is_ascii_digit() && c != '0') {
        grouped.insert(0, '-');
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_and_switch_to_time_of_day_on_short_axes() {
        // 2024-03-01T13:45:00Z
        let t = 1_709_300_700_000;
        assert_eq!(time_label(t, 365 * DAY_MS), "2024-03-01");
        assert_eq!(time_label(t, DAY_MS / 2), "03-01 13:45");
    }

    #[test]
    fn money_is_grouped_and_signed() {
        assert_eq!(money_label(1_234_567.4, 1e6), "1,234,567");
        assert_eq!(money_label(999.0, 1e3), "999");
        assert_eq!(money_label(-12_000.0, 1e5), "-12,000");
        assert_eq!(money_label(10_000.456, 5.0), "10,000.46");
        assert_eq!(money_label(-0.001, 100.0), "0");
    }
}
