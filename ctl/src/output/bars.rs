//! Bar streams (`data show` / `data resample`) printed as CSV or JSON lines: chunks checked (they
//! come from the network), rows formatted by [`ktrdr_market::text`] (the one bar-text writer, shared
//! with the daemon's `data export`) into one reused buffer, one write per chunk.

pub use ktrdr_market::text::{BarText, CSV_HEADER, Layout};
use ktrdr_protocol::model::BarChunk;
use ktrdr_protocol::{ProtocolError, WireError};
use std::io::Write;

/// Why a chunk was not written.
#[derive(Debug)]
pub enum WriteError {
    /// The output failed (a closed pipe after `| head`, a full disk).
    Output,
    /// The chunk's columns have different lengths.
    Malformed(String),
}

impl WriteError {
    /// What to report: `None` when the output is gone (end quietly, as `| head` expects).
    pub fn into_report(self) -> Option<WireError> {
        match self {
            WriteError::Output => None,
            WriteError::Malformed(m) => Some(ProtocolError::Decode(m).to_wire()),
        }
    }
}

/// Checks that a chunk's columns have one length (they come from the network).
pub fn check(ch: &BarChunk) -> Result<(), WriteError> {
    let n = ch.ts.len();
    if [&ch.open, &ch.high, &ch.low, &ch.close, &ch.volume]
        .iter()
        .all(|c| c.len() == n)
    {
        return Ok(());
    }
    Err(WriteError::Malformed(format!(
        "a bar chunk's columns differ in length (ts {n}, open {}, high {}, low {}, close {}, volume {})",
        ch.open.len(),
        ch.high.len(),
        ch.low.len(),
        ch.close.len(),
        ch.volume.len()
    )))
}

/// Formats chunks of bars into a reused buffer ([`BarText`]) and writes each chunk with one
/// `write_all`.
pub struct BarWriter {
    text: BarText,
    buf: Vec<u8>,
}

impl BarWriter {
    pub fn new(layout: Layout) -> BarWriter {
        keep_freed_memory();
        BarWriter {
            text: BarText::new(layout),
            buf: Vec::with_capacity(1 << 18),
        }
    }

    /// Writes every row of `ch`.
    pub fn write_chunk(&mut self, out: &mut impl Write, ch: &BarChunk) -> Result<(), WriteError> {
        check(ch)?;
        self.buf.clear();
        for i in 0..ch.ts.len() {
            let v = [ch.open[i], ch.high[i], ch.low[i], ch.close[i], ch.volume[i]];
            self.text.row(&mut self.buf, ch.ts[i], v);
        }
        out.write_all(&self.buf).map_err(|_| WriteError::Output)
    }
}

/// Each chunk decodes into fresh columns (~200 KiB) that are freed after printing. By default glibc
/// returns that memory to the kernel at once (the heap top shrinks past 128 KiB) and the next chunk
/// faults it in again, page by page: ~2,000 page faults, a third of the client's time for 175,680
/// bars. A stream keeps its freed memory instead (trim only past 64 MiB, large buffers from the heap
/// rather than fresh mappings).
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator tuning parameters; it is called before this thread
    // allocates the stream's buffers, and a failure (return 0) leaves the defaults in place.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 64 << 20);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(ts: &[i64], v: &[f64]) -> BarChunk {
        let col = |k: usize| (0..ts.len()).map(|i| v[(i + k) % v.len()]).collect();
        BarChunk {
            ts: ts.to_vec(),
            open: col(0),
            high: col(1),
            low: col(2),
            close: col(3),
            volume: col(4),
        }
    }

    fn written(ch: &BarChunk, layout: Layout) -> String {
        let mut out = Vec::new();
        BarWriter::new(layout).write_chunk(&mut out, ch).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_chunk_is_its_rows_in_the_shared_layout() {
        let ch = chunk(
            &[1_514_851_200_000, 1_514_851_200_123],
            &[1.2, 1.3, 1.1, 1.25, 100.0],
        );
        assert_eq!(
            written(&ch, Layout::Csv).lines().next(),
            Some("2018-01-02 00:00:00+00:00,1.2,1.3,1.1,1.25,100.0")
        );
    }

    #[test]
    fn json_lines_parse_as_json() {
        let values = [
            0.0,
            -0.0,
            1.07219,
            1e-7,
            1e15 + 1.0,
            1e22,
            f64::NAN,
            f64::INFINITY,
            0.1,
        ];
        let ch = chunk(&[0, 1_514_851_200_123, -62_167_219_200_001], &values);
        for line in written(&ch, Layout::JsonLines).lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert!(v["ts_ms"].is_i64(), "{line}");
        }
    }

    #[test]
    fn mismatched_columns_are_an_error_not_a_panic() {
        let mut ch = chunk(&[0, 1], &[1.0, 2.0]);
        ch.volume.pop();
        let mut out = Vec::new();
        let e = BarWriter::new(Layout::Csv).write_chunk(&mut out, &ch);
        assert!(matches!(e, Err(WriteError::Malformed(_))));
        assert!(out.is_empty());
    }
}
