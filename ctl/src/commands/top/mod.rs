//! `ktrdrctl top`: a live view of the daemon, refreshed every second, until `q`, Esc or Ctrl-C.
//!
//! ratatui draws (with crossterm, through ratatui's re-export so their versions agree); the
//! terminal is put back (raw mode off, main screen) on every way out, a panic included (ratatui's
//! hook). Each refresh is three ordinary requests over one connection (`stats`, `ops list`,
//! `ib status`): top needs nothing from the daemon that scripts cannot have.
//!
//! - [`model`]: one refresh's data and the rates between refreshes.
//! - [`view`]: drawing it (tested on a `TestBackend`).

pub mod model;
pub mod view;

use crate::client::Client;
use ktrdr_protocol::WireError;
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct TopArgs {
    /// Seconds between refreshes.
    #[arg(long, value_name = "SECS", default_value_t = 1.0)]
    pub interval: f64,
}

fn terminal_error(e: std::io::Error) -> WireError {
    WireError::internal(format!("terminal: {e}"))
        .with_hint("ktrdrctl top needs an interactive terminal; use `ktrdrctl stats` in scripts")
}

pub async fn run(mut c: Client, args: TopArgs) -> Result<(), WireError> {
    if !(args.interval.is_finite() && (0.1..=3600.0).contains(&args.interval)) {
        return Err(WireError::validation(format!(
            "--interval must be between 0.1 and 3600 seconds, got {}",
            args.interval
        )));
    }
    use std::io::IsTerminal as _;
    if !(std::io::stdout().is_terminal() && std::io::stdin().is_terminal()) {
        return Err(
            WireError::validation("ktrdrctl top needs an interactive terminal")
                .with_hint("in scripts use `ktrdrctl stats` (or --json, or --format prometheus)"),
        );
    }
    let every = Duration::from_secs_f64(args.interval);
    // The first sample before the screen changes: a daemon that cannot answer is reported on
    // the normal screen.
    let first = model::fetch(&mut c).await?;
    let mut terminal = match ratatui::try_init() {
        Ok(t) => t,
        Err(e) => {
            // Raw mode may already be on when entering the alternate screen failed.
            ratatui::restore();
            return Err(terminal_error(e));
        }
    };
    let result = refresh_loop(&mut c, &mut terminal, first, every).await;
    ratatui::restore();
    result
}

async fn refresh_loop(
    c: &mut Client,
    terminal: &mut ratatui::DefaultTerminal,
    first: model::Sample,
    every: Duration,
) -> Result<(), WireError> {
    let mut prev: Option<model::Sample> = None;
    let mut sample = first;
    loop {
        let screen = model::Screen::new(c.daemon_pid, sample.clone(), prev.as_ref());
        terminal
            .draw(|f| view::draw(f, &screen))
            .map_err(terminal_error)?;
        let next = Instant::now() + every;
        // Keys are read until the next refresh is due; nothing else runs on this thread.
        while let Some(left) = next.checked_duration_since(Instant::now()) {
            if !event::poll(left).map_err(terminal_error)? {
                break;
            }
            match event::read().map_err(terminal_error)? {
                Event::Key(k) if k.kind == KeyEventKind::Press => {
                    let ctrl_c =
                        k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL);
                    if ctrl_c || matches!(k.code, KeyCode::Char('q') | KeyCode::Esc) {
                        return Ok(());
                    }
                }
                Event::Resize(..) => {
                    terminal
                        .draw(|f| view::draw(f, &screen))
                        .map_err(terminal_error)?;
                }
                _ => {}
            }
        }
        prev = Some(sample);
        sample = model::fetch(c).await?;
    }
}
