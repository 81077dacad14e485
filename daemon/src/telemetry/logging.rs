//! Log output on stderr: human lines (the default) or one JSON object per event (`log_format =
//! "json"`, `--log-format json`). Events inside a request carry its `service` and `request`
//! (kind) from the dispatcher's span; events inside an operation carry its `op_id`, `kind` and
//! `service` from the operation's span (`ops::Registry`): in JSON they are the `span` object and
//! the `spans` list of each line.
//!
//! Under systemd (`JOURNAL_STREAM` set) each line starts with its sd-daemon priority prefix
//! (`<3>` error, `<4>` warning, `<6>` info, `<7>` debug and trace), which journald strips and
//! records as the entry's priority, so `journalctl -p warning` works, and the human format
//! drops its own timestamp and colours (journald stamps every entry). The prefix was chosen over
//! the tracing-journald crate: it keeps stderr as the one log destination (so `systemctl status`,
//! `journalctl -o cat` and a plain terminal show the same lines), needs no journal socket, and
//! is what systemd documents for services that log to stderr (sd-daemon(3)).

use crate::config::values::SettingValue;
use std::fmt;
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// How log events are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One readable line per event.
    Human,
    /// One JSON object per event, with the fields of the spans it happened in.
    Json,
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LogFormat::Human => "human",
            LogFormat::Json => "json",
        })
    }
}

impl SettingValue for LogFormat {
    const KIND: &'static str = "human or json";
    fn parse(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "human" | "text" => Ok(LogFormat::Human),
            "json" => Ok(LogFormat::Json),
            other => Err(format!("unknown log format {other:?}; use human or json")),
        }
    }
    fn from_toml(value: &toml::Value) -> Result<Self, String> {
        value
            .as_str()
            .ok_or_else(|| format!("expected \"human\" or \"json\", got {}", value.type_str()))
            .and_then(Self::parse)
    }
}

/// The sd-daemon(3) priority of a level: what journald records for the line.
pub fn priority(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        Level::DEBUG | Level::TRACE => 7,
    }
}

/// Writes `<N>` before whatever the inner format writes.
struct Prioritised<F>(F);

impl<S, N, F> FormatEvent<S, N> for Prioritised<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        write!(writer, "<{}>", priority(event.metadata().level()))?;
        self.0.format_event(ctx, writer, event)
    }
}

/// Installs the global subscriber. `journald`: stderr is the journal (`JOURNAL_STREAM` set).
pub fn init(filter: &str, format: LogFormat, journald: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(!journald && std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match (format, journald) {
        (LogFormat::Json, false) => builder
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .init(),
        (LogFormat::Json, true) => {
            let inner = tracing_subscriber::fmt::format()
                .json()
                .with_current_span(true)
                .with_span_list(true);
            builder.json().event_format(Prioritised(inner)).init()
        }
        (LogFormat::Human, false) => builder.init(),
        (LogFormat::Human, true) => {
            let inner = tracing_subscriber::fmt::format().without_time();
            builder.event_format(Prioritised(inner)).init()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_read_back_and_levels_map_to_journald_priorities() {
        for f in [LogFormat::Human, LogFormat::Json] {
            assert_eq!(LogFormat::parse(&f.to_string()), Ok(f));
        }
        assert!(
            LogFormat::parse("xml")
                .unwrap_err()
                .contains("human or json")
        );
        assert_eq!(
            [
                Level::ERROR,
                Level::WARN,
                Level::INFO,
                Level::DEBUG,
                Level::TRACE
            ]
            .map(|l| priority(&l)),
            [3, 4, 6, 7, 7]
        );
    }
}
