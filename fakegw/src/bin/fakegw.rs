//! `fakegw [--data DIR] [--port N]`: runs the fake gateway until Ctrl-C, for trying ktrdrd by hand
//! (`IB_PORT=N ktrdrd ...`).

use ktrdr_fakegw::FakeGateway;
use ktrdr_fakegw::bars::Library;
use std::path::PathBuf;

fn main() -> std::process::ExitCode {
    let mut data = PathBuf::from("../shared/data/ktrdr-ib-samples");
    let mut port = 0u16;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match (a.as_str(), args.next()) {
            ("--data", Some(v)) => data = PathBuf::from(v),
            ("--port", Some(v)) => match v.parse() {
                Ok(p) => port = p,
                Err(_) => return fail(&format!("--port {v:?} is not a port number")),
            },
            _ => return fail("usage: fakegw [--data DIR] [--port N]"),
        }
    }
    let library = match Library::load_dir(&data) {
        Ok(l) => l,
        Err(e) => return fail(&e),
    };
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start a runtime: {e}")),
    };
    rt.block_on(async move {
        let keys = library.keys();
        let gw = match FakeGateway::start_on(port, library).await {
            Ok(g) => g,
            Err(e) => return fail(&format!("cannot listen on 127.0.0.1:{port}: {e}")),
        };
        println!("fakegw listening on {}", gw.addr());
        for (s, tf) in keys {
            println!("  serves {s} {tf}");
        }
        let _ = tokio::signal::ctrl_c().await;
        gw.stop().await;
        std::process::ExitCode::SUCCESS
    })
}

fn fail(msg: &str) -> std::process::ExitCode {
    eprintln!("fakegw: {msg}");
    std::process::ExitCode::from(2)
}
