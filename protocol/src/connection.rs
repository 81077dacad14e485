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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::message::{Reply, Request, Response};
    use crate::request::Ping;
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream, duplex};

    fn pair() -> (Connection<DuplexStream>, Connection<DuplexStream>) {
        let (a, b) = duplex(64 * 1024);
        (Connection::new(a), Connection::new(b))
    }

    /// Fails the test instead of hanging it when a read never finishes.
    async fn soon<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::time::timeout(Duration::from_secs(10), f)
            .await
            .expect("timed out")
    }

    #[tokio::test]
    async fn frames_arrive_whole_and_in_order() {
        let (mut a, mut b) = pair();
        a.write_frame(b"first".to_vec()).await.unwrap();
        a.write_frame(Vec::new()).await.unwrap();
        a.write_frame(vec![7; 1000]).await.unwrap();
        assert_eq!(&b.read_frame().await.unwrap().unwrap()[..], b"first");
        assert!(b.read_frame().await.unwrap().unwrap().is_empty());
        assert_eq!(&b.read_frame().await.unwrap().unwrap()[..], &[7; 1000][..]);
    }

    #[tokio::test]
    async fn a_frame_is_a_big_endian_length_then_the_payload() {
        let (a, mut raw) = duplex(1024);
        let mut a = Connection::new(a);
        a.write_frame(b"abc".to_vec()).await.unwrap();
        let mut got = [0u8; 7];
        raw.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"\0\0\0\x03abc");
    }

    #[tokio::test]
    async fn typed_messages_round_trip() {
        let (mut client, mut server) = pair();
        let req = Request::Ping(Ping { payload: 42 });
        client.write(&req).await.unwrap();
        assert_eq!(server.read::<Request>().await.unwrap(), Some(req));
        let resp = Response::Reply(Reply::Pong { payload: 42 });
        server.write(&resp).await.unwrap();
        assert_eq!(client.read::<Response>().await.unwrap(), Some(resp));
        drop(server);
        assert_eq!(client.read::<Response>().await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_frame_that_is_not_the_expected_type_is_a_decode_error() {
        let (mut a, mut b) = pair();
        a.write_frame(vec![0xFF; 3]).await.unwrap();
        assert!(matches!(
            b.read::<Request>().await,
            Err(ProtocolError::Decode(_))
        ));
    }

    #[tokio::test]
    async fn a_clean_close_between_frames_is_none() {
        let (mut a, b) = pair();
        drop(b);
        assert!(a.read_frame().await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_peer_closing_mid_frame_is_an_error() {
        let (a, mut raw) = duplex(1024);
        let mut a = Connection::new(a);
        raw.write_all(&[0, 0, 0, 10, b'a', b'b']).await.unwrap();
        drop(raw);
        let e = soon(a.read_frame()).await.unwrap_err();
        assert!(matches!(e, ProtocolError::Io(_)), "{e:?}");
        assert_eq!(e.to_wire().kind, ErrorKind::Connection);
        // A header cut short is no cleaner.
        let (a, mut raw) = duplex(1024);
        let mut a = Connection::new(a);
        raw.write_all(&[0, 0]).await.unwrap();
        drop(raw);
        assert!(matches!(
            soon(a.read_frame()).await,
            Err(ProtocolError::Io(_))
        ));
    }

    #[tokio::test]
    async fn an_oversized_frame_is_refused_before_it_is_sent() {
        let (mut a, mut b) = pair();
        let too_big = frame::MAX_FRAME_LEN + 1;
        let e = a.write_frame(vec![0; too_big]).await.unwrap_err();
        assert!(matches!(e, ProtocolError::FrameTooLarge(n) if n == too_big));
        assert_eq!(e.to_wire().kind, ErrorKind::Internal);
        // Nothing reached the peer: the next frame is the first it sees.
        a.write_frame(b"next".to_vec()).await.unwrap();
        assert_eq!(&b.read_frame().await.unwrap().unwrap()[..], b"next");
    }

    #[tokio::test]
    async fn an_oversized_length_is_refused_from_the_header_alone() {
        let (a, mut raw) = duplex(1024);
        let mut a = Connection::new(a);
        // Only the header: the refusal cannot have waited for (or reserved room for) a payload.
        let announced = u32::try_from(frame::MAX_FRAME_LEN + 1).unwrap();
        raw.write_all(&announced.to_be_bytes()).await.unwrap();
        let e = soon(a.read_frame()).await.unwrap_err();
        assert!(matches!(e, ProtocolError::FrameTooLarge(_)), "{e:?}");
        drop(raw);
    }

    #[tokio::test]
    async fn the_frame_cap_can_be_lowered_and_restored() {
        let (a, mut raw) = duplex(64 * 1024);
        let mut a = Connection::new(a);
        a.set_max_frame_len(frame::HANDSHAKE_MAX_FRAME_LEN);
        let at_cap = vec![1u8; frame::HANDSHAKE_MAX_FRAME_LEN];
        raw.write_all(&u32::try_from(at_cap.len()).unwrap().to_be_bytes())
            .await
            .unwrap();
        raw.write_all(&at_cap).await.unwrap();
        assert_eq!(
            soon(a.read_frame()).await.unwrap().unwrap().len(),
            at_cap.len()
        );
        let over = u32::try_from(frame::HANDSHAKE_MAX_FRAME_LEN + 1).unwrap();
        raw.write_all(&over.to_be_bytes()).await.unwrap();
        assert!(matches!(
            soon(a.read_frame()).await,
            Err(ProtocolError::FrameTooLarge(_))
        ));

        // Restored, and never beyond the hard cap however high it is asked to go.
        let (a, mut raw) = duplex(64 * 1024);
        let mut a = Connection::new(a);
        a.set_max_frame_len(frame::HANDSHAKE_MAX_FRAME_LEN);
        a.set_max_frame_len(usize::MAX);
        raw.write_all(&over.to_be_bytes()).await.unwrap();
        raw.write_all(&vec![2u8; frame::HANDSHAKE_MAX_FRAME_LEN + 1])
            .await
            .unwrap();
        assert_eq!(
            soon(a.read_frame()).await.unwrap().unwrap().len(),
            frame::HANDSHAKE_MAX_FRAME_LEN + 1
        );
        let announced = u32::try_from(frame::MAX_FRAME_LEN + 1).unwrap();
        raw.write_all(&announced.to_be_bytes()).await.unwrap();
        assert!(matches!(
            soon(a.read_frame()).await,
            Err(ProtocolError::FrameTooLarge(_))
        ));
    }

    #[tokio::test]
    async fn writing_to_a_closed_peer_is_an_io_error() {
        let (mut a, b) = pair();
        drop(b);
        let e = a.write(&Request::Health).await.unwrap_err();
        assert!(matches!(e, ProtocolError::Io(_)), "{e:?}");
    }

    #[tokio::test]
    async fn works_over_a_unix_socket_pair() {
        let (a, b) = tokio::net::UnixStream::pair().unwrap();
        let (mut a, mut b) = (Connection::new(a), Connection::new(b));
        // The stream stays reachable, e.g. for the peer's credentials.
        let cred = a.get_ref().peer_cred().unwrap();
        // SAFETY: getuid has no preconditions and cannot fail.
        assert_eq!(cred.uid(), unsafe { libc::getuid() });
        a.write(&Request::Stats).await.unwrap();
        assert_eq!(b.read::<Request>().await.unwrap(), Some(Request::Stats));
    }

    /// The daemon's side of a handshake: reads the client's hello and answers `hello`.
    async fn answer(server: &mut Connection<DuplexStream>, hello: ServerHello) -> ClientHello {
        let bytes = server.read_frame().await.unwrap().unwrap();
        server.write_frame(hello.to_bytes()).await.unwrap();
        ClientHello::parse(&bytes).unwrap()
    }

    fn hello(status: HelloStatus, protocol: u16, text: &str) -> ServerHello {
        ServerHello {
            protocol,
            status,
            pid: 4242,
            text: text.into(),
        }
    }

    #[tokio::test]
    async fn client_handshake_accepted() {
        let (mut client, mut server) = pair();
        let ok = hello(HelloStatus::Ok, crate::PROTOCOL_VERSION, "9.9.9");
        let (got, sent) = tokio::join!(client.client_handshake(), answer(&mut server, ok.clone()));
        assert_eq!(got.unwrap(), ok);
        assert_eq!(sent, ClientHello::current());
        // The connection carries messages afterwards.
        client.write(&Request::Health).await.unwrap();
        assert_eq!(
            server.read::<Request>().await.unwrap(),
            Some(Request::Health)
        );
    }

    /// The refusal a client gets for `server_hello`: its status, its message and the kind of error
    /// it becomes for the user. Its `Display` is the message, unchanged.
    async fn refusal(server_hello: ServerHello) -> (HelloStatus, String, ErrorKind) {
        let (mut client, mut server) = pair();
        let (got, _) = tokio::join!(client.client_handshake(), answer(&mut server, server_hello));
        let e = got.unwrap_err();
        let (kind, shown) = (e.to_wire().kind, e.to_string());
        let ProtocolError::Refused { status, message } = e else {
            panic!("expected a refusal, got {e:?}");
        };
        assert_eq!(shown, message);
        (status, message, kind)
    }

    #[tokio::test]
    async fn client_handshake_refusals_keep_their_status() {
        let v = crate::PROTOCOL_VERSION;
        let (status, message, kind) = refusal(hello(HelloStatus::Busy, v, "64 connections")).await;
        assert_eq!(status, HelloStatus::Busy);
        assert_eq!(message, "daemon busy: 64 connections");
        assert_eq!(kind, ErrorKind::Unavailable);

        let (status, message, kind) =
            refusal(hello(HelloStatus::Forbidden, v, "peer uid differs")).await;
        assert_eq!(status, HelloStatus::Forbidden);
        assert_eq!(message, "refused by the daemon: peer uid differs");
        assert_eq!(kind, ErrorKind::Connection);

        let (status, message, kind) =
            refusal(hello(HelloStatus::ShuttingDown, v, "stopping")).await;
        assert_eq!(status, HelloStatus::ShuttingDown);
        assert_eq!(message, "daemon is shutting down: stopping");
        assert_eq!(kind, ErrorKind::Unavailable);

        let (status, message, kind) =
            refusal(hello(HelloStatus::Incompatible, v + 1, "speak 4")).await;
        assert_eq!(status, HelloStatus::Incompatible);
        assert_eq!(
            message,
            format!(
                "ktrdrctl speaks protocol {v} but ktrdrd (pid 4242) speaks protocol {}: speak 4",
                v + 1
            )
        );
        assert_eq!(kind, ErrorKind::Incompatible);
    }

    #[tokio::test]
    async fn an_ok_from_another_protocol_version_is_still_incompatible() {
        let v = crate::PROTOCOL_VERSION;
        let (status, message, kind) = refusal(hello(HelloStatus::Ok, v - 1, "0.0.1")).await;
        assert_eq!(status, HelloStatus::Incompatible);
        assert!(
            message.contains(&format!("speaks protocol {}", v - 1)),
            "{message}"
        );
        assert_eq!(kind, ErrorKind::Incompatible);
    }

    #[tokio::test]
    async fn a_refusal_sent_before_our_hello_is_read_still_explains() {
        // The daemon answers and closes without reading: our write fails, its answer is waiting.
        let (mut client, mut server) = pair();
        let busy = hello(HelloStatus::Busy, crate::PROTOCOL_VERSION, "full");
        server.write_frame(busy.to_bytes()).await.unwrap();
        drop(server);
        match client.client_handshake().await {
            Err(ProtocolError::Refused { status, message }) => {
                assert_eq!(status, HelloStatus::Busy);
                assert_eq!(message, "daemon busy: full");
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_daemon_gone_before_the_handshake_is_the_write_error() {
        let (mut client, server) = pair();
        drop(server);
        let e = client.client_handshake().await.unwrap_err();
        assert!(matches!(e, ProtocolError::Io(_)), "{e:?}");
        assert_eq!(e.to_wire().kind, ErrorKind::Connection);
    }

    #[tokio::test]
    async fn a_daemon_that_reads_our_hello_and_closes_is_closed() {
        let (mut client, mut server) = pair();
        let server_side = async move {
            let hello = server.read_frame().await.unwrap().unwrap();
            drop(server);
            hello
        };
        let (got, hello) = tokio::join!(client.client_handshake(), server_side);
        assert!(matches!(got, Err(ProtocolError::Closed)), "{got:?}");
        assert_eq!(ClientHello::parse(&hello).unwrap(), ClientHello::current());
    }

    #[tokio::test]
    async fn a_broken_answer_to_our_hello_is_an_error() {
        // Cut off in the middle of the answer's frame.
        let (mut client, server) = pair();
        let mut server = server.framed.into_inner();
        let server_side = async move {
            let mut header = [0u8; 4];
            server.read_exact(&mut header).await.unwrap();
            let len = u32::from_be_bytes(header) as usize;
            server.read_exact(&mut vec![0; len]).await.unwrap();
            server.write_all(&[0, 0, 0, 50, b'K']).await.unwrap();
        };
        let (got, ()) = tokio::join!(client.client_handshake(), server_side);
        assert!(matches!(got, Err(ProtocolError::Io(_))), "{got:?}");

        // A whole frame that is not a hello.
        let (mut client, mut server) = pair();
        let server_side = async {
            server.read_frame().await.unwrap().unwrap();
            server.write_frame(b"HTTP/1.1 400".to_vec()).await.unwrap();
        };
        let (got, ()) = tokio::join!(client.client_handshake(), server_side);
        let e = got.unwrap_err();
        assert!(matches!(e, ProtocolError::Handshake(_)), "{e:?}");
        assert_eq!(e.to_wire().kind, ErrorKind::Incompatible);
    }
}
