//! Shell completions and the man page, generated from the clap definitions so they never drift
//! from the real command line.

use crate::cli::Cli;
use clap::CommandFactory;
use ktrdr_protocol::WireError;

pub fn completion(shell: clap_complete::Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "ktrdrctl", &mut out);
    out
}

pub fn man_page() -> Result<Vec<u8>, WireError> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut out)
        .map_err(|e| WireError::internal(format!("cannot render the man page: {e}")))?;
    Ok(out)
}
