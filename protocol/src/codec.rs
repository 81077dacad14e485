//! The payload encoding. Everything that knows about bincode lives here, so replacing it (bincode is
//! unmaintained, RUSTSEC-2025-0141) is a change to this file plus a [`crate::PROTOCOL_VERSION`] bump.

use crate::error::ProtocolError;
use crate::frame::MAX_FRAME_LEN;
use bincode::config::{Configuration, Limit, LittleEndian, Varint};
use serde::{Serialize, de::DeserializeOwned};

type Config = Configuration<LittleEndian, Varint, Limit<MAX_FRAME_LEN>>;

/// The limit bounds what a decode may allocate: a small frame claiming a vector of 2^60 elements is
/// refused instead of reserving memory.
const CONFIG: Config = bincode::config::standard().with_limit::<MAX_FRAME_LEN>();

pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, ProtocolError> {
    let bytes = bincode::serde::encode_to_vec(value, CONFIG)
        .map_err(|e| ProtocolError::Encode(e.to_string()))?;
    if bytes.len() > MAX_FRAME_LEN {
        return Err(ProtocolError::FrameTooLarge(bytes.len()));
    }
    Ok(bytes)
}

/// Decodes one whole frame; trailing bytes are an error, since they mean the peers disagree on a type.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ProtocolError> {
    let (value, used) = bincode::serde::decode_from_slice(bytes, CONFIG)
        .map_err(|e| ProtocolError::Decode(e.to_string()))?;
    if used != bytes.len() {
        return Err(ProtocolError::Decode(format!(
            "{} trailing bytes after the message",
            bytes.len() - used
        )));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{Request, Response};
    use proptest::prelude::*;

    #[test]
    fn hostile_vector_length_is_refused() {
        // A varint claiming u64::MAX elements of a Vec<String>.
        let bytes = [0xFFu8, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];
        assert!(decode::<Vec<String>>(&bytes).is_err());
    }

    #[test]
    fn request_round_trips() {
        let req = Request::Ping(crate::request::Ping { payload: 42 });
        let back: Request = decode(&encode(&req).unwrap()).unwrap();
        assert_eq!(format!("{req:?}"), format!("{back:?}"));
    }

    #[test]
    fn trailing_bytes_are_refused() {
        let mut bytes = encode(&Request::Health).unwrap();
        assert_eq!(decode::<Request>(&bytes).unwrap(), Request::Health);
        bytes.extend_from_slice(&[0, 0]);
        match decode::<Request>(&bytes) {
            Err(ProtocolError::Decode(m)) => assert_eq!(m, "2 trailing bytes after the message"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_message_larger_than_a_frame_is_refused_when_encoded() {
        // The payload alone fills a frame; its length prefix tips it over.
        let e = encode(&vec![0u8; MAX_FRAME_LEN]).unwrap_err();
        assert!(
            matches!(e, ProtocolError::FrameTooLarge(n) if n > MAX_FRAME_LEN),
            "{e:?}"
        );
        assert!(encode(&vec![0u8; MAX_FRAME_LEN - 8]).is_ok());
    }

    #[test]
    fn a_value_that_cannot_be_serialized_is_an_encode_error() {
        struct Unserializable;
        impl Serialize for Unserializable {
            fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
                Err(serde::ser::Error::custom("no"))
            }
        }
        assert!(matches!(
            encode(&Unserializable),
            Err(ProtocolError::Encode(_))
        ));
    }

    proptest! {
        #[test]
        fn byte_strings_round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..2048), text in ".{0,64}") {
            let back: (Vec<u8>, String) = decode(&encode(&(&bytes, &text)).unwrap()).unwrap();
            prop_assert_eq!(back, (bytes, text));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4096, .. ProptestConfig::default() })]
        // Decoding arbitrary bytes as any message type returns an error or a value; it never panics.
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode::<Request>(&bytes);
            let _ = decode::<Response>(&bytes);
        }
    }
}
