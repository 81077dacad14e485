//! [`Connection`]: framing plus encoding over one byte stream, used by both peers.

use crate::codec;
use crate::error::ProtocolError;
use crate::frame;
use crate::handshake::{ClientHello, HelloStatus, ServerHello};
use bytes::{Bytes, BytesMut};
use futures_util::{SinkExt, StreamExt};
use serde::{Serialize, de::DeserializeOwned};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::codec::{Framed, LengthDelimitedCodec};

pub struct Connection<S> {
    framed: Framed<S, LengthDelimitedCodec>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Connection<S> {
    pub fn new(stream: S) -> Self {
        Connection {
            framed: Framed::new(stream, frame::codec()),
        }
    }

    /// The next whole frame, or `None` when the peer closed cleanly between frames. A peer that closes
    /// in the middle of a frame is an error, not a clean close.
    pub async fn read_frame(&mut self) -> Result<Option<BytesMut>, ProtocolError> {
        match self.framed.next().await {
            None => Ok(None),
            Some(Ok(bytes)) => Ok(Some(bytes)),
            Some(Err(e)) if e.kind() == std::io::ErrorKind::InvalidData => {
                Err(ProtocolError::FrameTooLarge(frame::MAX_FRAME_LEN + 1))
            }
            Some(Err(e)) => Err(ProtocolError::Io(e)),
        }
    }

    pub async fn write_frame(&mut self, bytes: Vec<u8>) -> Result<(), ProtocolError> {
        if bytes.len() > frame::MAX_FRAME_LEN {
            return Err(ProtocolError::FrameTooLarge(bytes.len()));
        }
        self.framed.send(Bytes::from(bytes)).await?;
        Ok(())
    }

    pub async fn read<T: DeserializeOwned>(&mut self) -> Result<Option<T>, ProtocolError> {
        match self.read_frame().await? {
            None => Ok(None),
            Some(bytes) => codec::decode(&bytes).map(Some),
        }
    }

    pub async fn write<T: Serialize>(&mut self, message: &T) -> Result<(), ProtocolError> {
        self.write_frame(codec::encode(message)?).await
    }

    /// Client side of the handshake: says who we are, learns the daemon's pid and version.
    pub async fn client_handshake(&mut self) -> Result<ServerHello, ProtocolError> {
        let sent = self.write_frame(ClientHello::current().to_bytes()).await;
        // A daemon that refuses us (busy, other uid) answers and closes without reading, so our write
        // may fail with a broken pipe while its explanation already waits in our receive buffer.
        let bytes = match (self.read_frame().await, sent) {
            (Ok(Some(bytes)), _) => bytes,
            (_, Err(e)) => return Err(e),
            (Ok(None), Ok(())) => return Err(ProtocolError::Closed),
            (Err(e), Ok(())) => return Err(e),
        };
        let hello = ServerHello::parse(&bytes)?;
        let message = match hello.status {
            HelloStatus::Ok if hello.protocol == crate::PROTOCOL_VERSION => return Ok(hello),
            HelloStatus::Ok | HelloStatus::Incompatible => format!(
                "ktrdrctl speaks protocol {} but ktrdrd (pid {}) speaks protocol {}: {}",
                crate::PROTOCOL_VERSION,
                hello.pid,
                hello.protocol,
                hello.text
            ),
            HelloStatus::Busy => format!("daemon busy: {}", hello.text),
            HelloStatus::Forbidden => format!("refused by the daemon: {}", hello.text),
            HelloStatus::ShuttingDown => format!("daemon is shutting down: {}", hello.text),
        };
        // A mismatched version answered `Ok` is still an incompatibility.
        let status = match hello.status {
            HelloStatus::Ok => HelloStatus::Incompatible,
            s => s,
        };
        Err(ProtocolError::Refused { status, message })
    }

    /// Lowers (or restores) the largest frame this side accepts; see
    /// [`frame::HANDSHAKE_MAX_FRAME_LEN`].
    pub fn set_max_frame_len(&mut self, len: usize) {
        self.framed
            .codec_mut()
            .set_max_frame_length(len.min(frame::MAX_FRAME_LEN));
    }

    pub fn get_ref(&self) -> &S {
        self.framed.get_ref()
    }
}
