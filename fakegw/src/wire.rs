//! Framing: a u32 big-endian length, then the body. After the handshake a body is an i32
//! big-endian message id and a payload; ids above 200 mean a protobuf payload.

use tokio::io::{AsyncRead, AsyncReadExt};

/// Larger than any request a client sends; a bigger length is a broken or hostile peer.
pub const MAX_FRAME: usize = 1 << 20;

pub async fn read_frame<R: AsyncRead + Unpin>(r: &mut R) -> std::io::Result<Vec<u8>> {
    let len = r.read_u32().await? as usize;
    if len > MAX_FRAME {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("frame of {len} bytes"),
        ));
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).await?;
    Ok(body)
}

pub fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + body.len());
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// A protobuf message framed with its id (+200).
pub fn message(id: i32, m: &impl prost::Message) -> Vec<u8> {
    let mut body = Vec::with_capacity(4 + m.encoded_len());
    body.extend_from_slice(&(id + crate::proto::id::PROTOBUF_OFFSET).to_be_bytes());
    body.extend_from_slice(&m.encode_to_vec());
    frame(&body)
}

/// The body's message id with the protobuf offset removed, whether it was protobuf, and the payload.
pub fn split(body: &[u8]) -> Option<(i32, bool, &[u8])> {
    let (head, payload) = body.split_first_chunk::<4>()?;
    let raw = i32::from_be_bytes(*head);
    let off = crate::proto::id::PROTOBUF_OFFSET;
    Some(if raw > off {
        (raw - off, true, payload)
    } else {
        (raw, false, payload)
    })
}

/// `v213..226` (or `v213`) to the range.
pub fn parse_versions(text: &str) -> Option<(i32, i32)> {
    let t = text.trim_end_matches('\0').strip_prefix('v')?;
    match t.split_once("..") {
        Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
        None => {
            let v = t.parse().ok()?;
            Some((v, v))
        }
    }
}
