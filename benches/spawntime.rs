//! `spawntime N CMD1 -- CMD2 -- ...`: whole-process wall time of each command, spawned N times with
//! the runs interleaved (CMD1, CMD2, ..., CMD1, ...) so every command sees the same machine load.
//! Prints one line per command: wall-time median, p90, mean and min, then the median CPU time (user +
//! system, from `getrusage(RUSAGE_CHILDREN)`), all in milliseconds. CPU time barely moves with other
//! load on the machine; wall time does. Standard library only (and libc's `getrusage`):
//! `benches/client.sh` compiles it with plain `rustc -O`, no crate and no dependency.

use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(n) = args.first().and_then(|n| n.parse::<usize>().ok()) else {
        eprintln!("usage: spawntime N CMD [ARGS...] [-- CMD [ARGS...]]...");
        return ExitCode::from(2);
    };
    let cmds: Vec<&[String]> = args[1..]
        .split(|a| a == "--")
        .filter(|c| !c.is_empty())
        .collect();
    let mut times = vec![Vec::with_capacity(n); cmds.len()];
    let mut cpu = vec![Vec::with_capacity(n); cmds.len()];
    // Warm-up: page cache, the dynamic loader's caches.
    for c in &cmds {
        for _ in 0..5 {
            if let Err(e) = run(c) {
                eprintln!("spawntime: {}: {e}", c.join(" "));
                return ExitCode::FAILURE;
            }
        }
    }
    for _ in 0..n {
        for (i, c) in cmds.iter().enumerate() {
            let c0 = children_cpu_ms();
            let t = Instant::now();
            if let Err(e) = run(c) {
                eprintln!("spawntime: {}: {e}", c.join(" "));
                return ExitCode::FAILURE;
            }
            times[i].push(t.elapsed().as_secs_f64() * 1e3);
            cpu[i].push(children_cpu_ms() - c0);
        }
    }
    for ((c, t), u) in cmds.iter().zip(&mut times).zip(&mut cpu) {
        t.sort_by(f64::total_cmp);
        u.sort_by(f64::total_cmp);
        let pct = |p: f64| t[((t.len() - 1) as f64 * p).round() as usize];
        let mean = t.iter().sum::<f64>() / t.len() as f64;
        println!(
            "{:.3} {:.3} {:.3} {:.3} {:.3} {}",
            pct(0.5),
            pct(0.9),
            mean,
            t[0],
            u[u.len() / 2],
            c.join(" ")
        );
    }
    ExitCode::SUCCESS
}

fn run(cmd: &[String]) -> Result<(), String> {
    let status = Command::new(&cmd[0])
        .args(&cmd[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("exited with {status}"))
    }
}

#[repr(C)]
struct Timeval {
    sec: i64,
    usec: i64,
}

#[repr(C)]
struct Rusage {
    utime: Timeval,
    stime: Timeval,
    rest: [i64; 14],
}

unsafe extern "C" {
    fn getrusage(who: i32, usage: *mut Rusage) -> i32;
}

/// User + system CPU time of all waited-for children so far (Linux `RUSAGE_CHILDREN` = -1).
fn children_cpu_ms() -> f64 {
    let mut r = Rusage {
        utime: Timeval { sec: 0, usec: 0 },
        stime: Timeval { sec: 0, usec: 0 },
        rest: [0; 14],
    };
    // SAFETY: `r` is a valid, writable `struct rusage` (x86_64 / aarch64 Linux layout).
    if unsafe { getrusage(-1, &mut r) } != 0 {
        return 0.0;
    }
    let ms = |t: &Timeval| t.sec as f64 * 1e3 + t.usec as f64 / 1e3;
    ms(&r.utime) + ms(&r.stime)
}
