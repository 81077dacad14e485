//! Framing: a 4-byte big-endian length, then that many payload bytes.

use tokio_util::codec::LengthDelimitedCodec;

/// Hard cap on one frame's payload, enforced by both peers before any allocation. Large results are
/// streamed as many frames well below this.
pub const MAX_FRAME_LEN: usize = 16 * 1024 * 1024;

/// Target size of one data chunk in a streamed answer: far below [`MAX_FRAME_LEN`] so a stream keeps
/// memory flat on both sides.
pub const CHUNK_TARGET_LEN: usize = 256 * 1024;

/// The codec used on every connection. `LengthDelimitedCodec` rejects a length above the cap as soon
/// as the 4-byte header is read, so a hostile "4 GiB" prefix never reserves memory.
pub fn codec() -> LengthDelimitedCodec {
    LengthDelimitedCodec::builder()
        .length_field_length(4)
        .big_endian()
        .max_frame_length(MAX_FRAME_LEN)
        .new_codec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::{BufMut, BytesMut};
    use tokio_util::codec::Decoder;

    #[test]
    fn oversized_length_is_rejected_without_allocating() {
        let mut buf = BytesMut::new();
        buf.put_u32(u32::MAX);
        let mut c = codec();
        assert!(c.decode(&mut buf).is_err());
        assert!(buf.capacity() < 1024, "capacity grew to {}", buf.capacity());
    }

    #[test]
    fn truncated_frame_waits_for_more() {
        let mut buf = BytesMut::new();
        buf.put_u32(10);
        buf.put_slice(b"abc");
        let mut c = codec();
        assert!(matches!(c.decode(&mut buf), Ok(None)));
    }
}
