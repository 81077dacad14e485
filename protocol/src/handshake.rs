//! The first frame each way. Its layout is fixed bytes, not the payload encoding, so that a client and
//! a daemon that disagree on everything else can still tell each other which versions they speak.
//!
//! ```text
//! client -> daemon: "KTRD" | u16 BE protocol | utf-8 software version
//! daemon -> client: "KTRD" | u16 BE protocol | u8 status | u32 BE pid | utf-8 text
//! ```
//! The text is the daemon's software version when the status is `Ok`, otherwise the reason.

use crate::error::ProtocolError;

pub const MAGIC: &[u8; 4] = b"KTRD";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHello {
    pub protocol: u16,
    pub software: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelloStatus {
    Ok = 0,
    Incompatible = 1,
    Busy = 2,
    Forbidden = 3,
    ShuttingDown = 4,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello {
    pub protocol: u16,
    pub status: HelloStatus,
    pub pid: u32,
    pub text: String,
}

impl ClientHello {
    pub fn current() -> Self {
        ClientHello {
            protocol: crate::PROTOCOL_VERSION,
            software: crate::SOFTWARE_VERSION.into(),
        }
    }
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(6 + self.software.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.protocol.to_be_bytes());
        out.extend_from_slice(self.software.as_bytes());
        out
    }
    pub fn parse(bytes: &[u8]) -> Result<Self, ProtocolError> {
        let rest = strip_magic(bytes)?;
        let (protocol, rest) = split_u16(rest)?;
        Ok(ClientHello {
            protocol,
            software: String::from_utf8_lossy(rest).into_owned(),
        })
    }
}

impl ServerHello {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(11 + self.text.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.protocol.to_be_bytes());
        out.push(self.status as u8);
        out.extend_from_slice(&self.pid.to_be_bytes());
        out.extend_from_slice(self.text.as_bytes());
        out
    }
    pub fn parse(bytes: &[u8]) -> Result<Self, ProtocolError> {
        let rest = strip_magic(bytes)?;
        let (protocol, rest) = split_u16(rest)?;
        let (&status, rest) = rest
            .split_first()
            .ok_or_else(|| ProtocolError::Handshake("hello too short".into()))?;
        let status = match status {
            0 => HelloStatus::Ok,
            1 => HelloStatus::Incompatible,
            2 => HelloStatus::Busy,
            3 => HelloStatus::Forbidden,
            4 => HelloStatus::ShuttingDown,
            other => {
                return Err(ProtocolError::Handshake(format!(
                    "unknown hello status {other}"
                )));
            }
        };
        if rest.len() < 4 {
            return Err(ProtocolError::Handshake("hello too short".into()));
        }
        let pid = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]);
        Ok(ServerHello {
            protocol,
            status,
            pid,
            text: String::from_utf8_lossy(&rest[4..]).into_owned(),
        })
    }
}

fn strip_magic(bytes: &[u8]) -> Result<&[u8], ProtocolError> {
    bytes.strip_prefix(MAGIC.as_slice()).ok_or_else(|| {
        ProtocolError::Handshake("the peer is not speaking the ktrdr protocol (bad magic)".into())
    })
}

fn split_u16(bytes: &[u8]) -> Result<(u16, &[u8]), ProtocolError> {
    if bytes.len() < 2 {
        return Err(ProtocolError::Handshake("hello too short".into()));
    }
    Ok((u16::from_be_bytes([bytes[0], bytes[1]]), &bytes[2..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hellos_round_trip() {
        let c = ClientHello::current();
        assert_eq!(ClientHello::parse(&c.to_bytes()).unwrap(), c);
        let s = ServerHello {
            protocol: 7,
            status: HelloStatus::Busy,
            pid: 99,
            text: "full".into(),
        };
        assert_eq!(ServerHello::parse(&s.to_bytes()).unwrap(), s);
    }

    #[test]
    fn every_status_round_trips_as_its_byte() {
        for (status, byte) in [
            (HelloStatus::Ok, 0u8),
            (HelloStatus::Incompatible, 1),
            (HelloStatus::Busy, 2),
            (HelloStatus::Forbidden, 3),
            (HelloStatus::ShuttingDown, 4),
        ] {
            let s = ServerHello {
                protocol: crate::PROTOCOL_VERSION,
                status,
                pid: 0x0102_0304,
                text: "why".into(),
            };
            let bytes = s.to_bytes();
            // "KTRD" | u16 BE protocol | u8 status | u32 BE pid | text
            assert_eq!(&bytes[..4], MAGIC);
            assert_eq!(bytes[4..6], crate::PROTOCOL_VERSION.to_be_bytes());
            assert_eq!(bytes[6], byte);
            assert_eq!(bytes[7..11], [1, 2, 3, 4]);
            assert_eq!(&bytes[11..], b"why");
            assert_eq!(ServerHello::parse(&bytes).unwrap(), s);
        }
    }

    #[test]
    fn client_hello_layout() {
        let c = ClientHello {
            protocol: 0x0A0B,
            software: "1.2.3".into(),
        };
        assert_eq!(c.to_bytes(), b"KTRD\x0A\x0B1.2.3");
    }

    #[test]
    fn short_or_unknown_hellos_are_refused() {
        let err = |r: Result<ServerHello, ProtocolError>| match r {
            Err(ProtocolError::Handshake(m)) => m,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            err(ServerHello::parse(b"KTRD\0\x03\x05\0\0\0\0")),
            "unknown hello status 5"
        );
        assert_eq!(err(ServerHello::parse(b"KTRD\0\x03")), "hello too short");
        assert_eq!(
            err(ServerHello::parse(b"KTRD\0\x03\x00\0\0\0")),
            "hello too short"
        );
        assert!(err(ServerHello::parse(b"KTR")).contains("bad magic"));
        assert!(matches!(
            ClientHello::parse(b"KTRD\x01"),
            Err(ProtocolError::Handshake(_))
        ));
        // The text is optional, and bytes that are not UTF-8 are replaced, not fatal.
        let s = ServerHello::parse(b"KTRD\0\x03\x02\0\0\0\x09\xffx").unwrap();
        assert_eq!(
            (s.status, s.pid, s.text.as_str()),
            (HelloStatus::Busy, 9, "\u{fffd}x")
        );
        let c = ClientHello::parse(b"KTRD\0\x03").unwrap();
        assert_eq!((c.protocol, c.software.as_str()), (3, ""));
    }

    proptest::proptest! {
        #[test]
        fn server_hellos_round_trip(
            protocol in proptest::prelude::any::<u16>(),
            status in 0u8..5,
            pid in proptest::prelude::any::<u32>(),
            text in ".{0,40}",
        ) {
            let bytes = [MAGIC.as_slice(), &protocol.to_be_bytes(), &[status], &pid.to_be_bytes(), text.as_bytes()].concat();
            let s = ServerHello::parse(&bytes).unwrap();
            proptest::prop_assert_eq!(s.status as u8, status);
            proptest::prop_assert_eq!((s.protocol, s.pid, &s.text), (protocol, pid, &text));
            proptest::prop_assert_eq!(s.to_bytes(), bytes);
        }

        #[test]
        fn client_hellos_round_trip(protocol in proptest::prelude::any::<u16>(), software in ".{0,40}") {
            let c = ClientHello { protocol, software };
            proptest::prop_assert_eq!(ClientHello::parse(&c.to_bytes()).unwrap(), c);
        }
    }

    #[test]
    fn garbage_is_a_handshake_error() {
        assert!(ClientHello::parse(b"GET / HTTP/1.1").is_err());
        assert!(ServerHello::parse(b"KTRD\x00").is_err());
    }
}
