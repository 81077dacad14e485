//! Framing: a 4-byte big-endian length, then that many payload bytes.

use tokio_util::codec::LengthDelimitedCodec;

/// Hard cap on one frame's payload, enforced by both peers before any allocation. Large results are
/// streamed as many frames well below this.
pub const MAX_FRAME_LEN: usize = 16 * 1024 * 1024;

/// Cap on frames before the handshake completes. The codec reserves a frame's announced length as
/// soon as it reads the header, so an unauthenticated peer gets a few KiB, not 16 MiB per connection.
pub const HANDSHAKE_MAX_FRAME_LEN: usize = 4096;

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

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 2048, .. Default::default() })]
        /// Arbitrary bytes, arriving in arbitrary pieces, through the whole receive path (framing,
        /// handshake parsing, message decoding): errors are fine, panics and runaway allocation are not.
        #[test]
        fn receive_path_never_panics(
            pieces in proptest::collection::vec(proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64), 0..16)
        ) {
            let mut c = codec();
            let mut buf = BytesMut::new();
            for piece in pieces {
                buf.extend_from_slice(&piece);
                loop {
                    match c.decode(&mut buf) {
                        Ok(Some(frame)) => {
                            let _ = crate::handshake::ClientHello::parse(&frame);
                            let _ = crate::handshake::ServerHello::parse(&frame);
                            let _ = crate::codec::decode::<crate::Request>(&frame);
                            let _ = crate::codec::decode::<crate::Response>(&frame);
                        }
                        Ok(None) => break,
                        Err(_) => return Ok(()),
                    }
                }
                // The codec may reserve an announced length, but never beyond the cap.
                proptest::prop_assert!(buf.capacity() <= MAX_FRAME_LEN + 4096);
            }
        }
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
