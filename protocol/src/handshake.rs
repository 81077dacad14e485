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
    fn garbage_is_a_handshake_error() {
        assert!(ClientHello::parse(b"GET / HTTP/1.1").is_err());
        assert!(ServerHello::parse(b"KTRD\x00").is_err());
    }
}
