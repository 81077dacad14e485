//! Shell completions and the man page, generated from the clap definitions so they never drift
//! from the real command line. The definitions arrive as a [`clap::Command`] built by `main` from
//! `cli::Cli`, so the command modules never reach back to the top of the command line.

use ktrdr_protocol::WireError;

pub fn completion(cli: &clap::Command, shell: clap_complete::Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cli.clone(), "ktrdrctl", &mut out);
    out
}

pub fn man_page(cli: &clap::Command) -> Result<Vec<u8>, WireError> {
    let mut out = Vec::new();
    clap_mangen::Man::new(cli.clone())
        .render(&mut out)
        .map_err(|e| WireError::internal(format!("cannot render the man page: {e}")))?;
    Ok(out)
}
