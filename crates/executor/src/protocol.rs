//! The invoke protocol between the executor and a runtime shim, over the unix socket the
//! executor owns: frames of a 4-byte big-endian length followed by that many bytes of UTF-8
//! JSON, one request and one reply at a time.
//!
//! Request `{"variables": {..}, "payload": "..", "headers": {..}}`; reply
//! `{"statusCode": 200, "response": "..", "stdout": "..", "stderr": ".."}`. The shims live in
//! `runtimes/<language>/` and must agree with this file.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The largest frame either side accepts. A reply holds three fields of at most a million
/// characters each, which JSON escaping can inflate several times.
pub(crate) const MAX_FRAME: u32 = 64 * 1024 * 1024;

/// What each of `response`, `stdout` and `stderr` keeps, in bytes.
pub(crate) const KEEP: usize = 1_000_000;

/// One invocation, as the shim receives it.
#[derive(Debug, Serialize)]
pub(crate) struct Request<'a> {
    pub(crate) variables: &'a BTreeMap<String, String>,
    pub(crate) payload: &'a str,
    pub(crate) headers: &'a BTreeMap<String, String>,
}

/// The shim's answer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Reply {
    /// Whatever the handler passed as the status; checked by [`Reply::status`].
    #[serde(default)]
    pub(crate) status_code: serde_json::Value,
    #[serde(default)]
    pub(crate) response: String,
    #[serde(default)]
    pub(crate) stdout: String,
    #[serde(default)]
    pub(crate) stderr: String,
}

impl Reply {
    /// The HTTP status the handler chose, if it is one.
    pub(crate) fn status(&self) -> Option<u16> {
        let number = match &self.status_code {
            serde_json::Value::Number(number) => number.as_u64(),
            serde_json::Value::String(text) => text.trim().parse().ok(),
            _ => None,
        };
        number
            .and_then(|n| u16::try_from(n).ok())
            .filter(|n| (100..=599).contains(n))
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum FrameError {
    #[error("the connection broke: {source}")]
    Io { source: std::io::Error },
    #[error("the runtime closed the connection")]
    Closed,
    #[error("a frame of {length} bytes is larger than the {MAX_FRAME}-byte limit")]
    TooLarge { length: u64 },
    #[error("the runtime sent malformed JSON: {source}")]
    Json { source: serde_json::Error },
}

/// Writes one frame holding `value` as JSON.
pub(crate) async fn write<W, T>(writer: &mut W, value: &T) -> Result<(), FrameError>
where
    W: AsyncWrite + Unpin,
    T: Serialize,
{
    let body = serde_json::to_vec(value).map_err(|source| FrameError::Json { source })?;
    let length = u32::try_from(body.len())
        .ok()
        .filter(|length| *length <= MAX_FRAME)
        .ok_or(FrameError::TooLarge {
            length: body.len() as u64,
        })?;
    let io = |source| FrameError::Io { source };
    writer.write_all(&length.to_be_bytes()).await.map_err(io)?;
    writer.write_all(&body).await.map_err(io)?;
    writer.flush().await.map_err(io)
}

/// Reads one frame and decodes its JSON.
pub(crate) async fn read<R, T>(reader: &mut R) -> Result<T, FrameError>
where
    R: AsyncRead + Unpin,
    T: for<'de> Deserialize<'de>,
{
    let mut head = [0u8; 4];
    reader.read_exact(&mut head).await.map_err(|source| {
        if source.kind() == std::io::ErrorKind::UnexpectedEof {
            FrameError::Closed
        } else {
            FrameError::Io { source }
        }
    })?;
    let length = u32::from_be_bytes(head);
    if length > MAX_FRAME {
        return Err(FrameError::TooLarge {
            length: u64::from(length),
        });
    }
    let mut body = vec![0u8; length as usize];
    reader.read_exact(&mut body).await.map_err(|source| {
        if source.kind() == std::io::ErrorKind::UnexpectedEof {
            FrameError::Closed
        } else {
            FrameError::Io { source }
        }
    })?;
    serde_json::from_slice(&body).map_err(|source| FrameError::Json { source })
}

/// Cuts `text` to at most `limit` bytes, on a character boundary.
pub(crate) fn truncate(mut text: String, limit: usize) -> String {
    if text.len() > limit {
        let mut end = limit;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn frames_round_trip_with_a_big_endian_length() {
        let variables = BTreeMap::from([("A".to_owned(), "1".to_owned())]);
        let headers = BTreeMap::new();
        let request = Request {
            variables: &variables,
            payload: "hé",
            headers: &headers,
        };
        let mut wire = Vec::new();
        write(&mut wire, &request).await.unwrap();
        let json = r#"{"variables":{"A":"1"},"payload":"hé","headers":{}}"#.as_bytes();
        assert_eq!(&wire[..4], &(json.len() as u32).to_be_bytes());
        assert_eq!(&wire[4..], json);
        let echoed: serde_json::Value = read(&mut &wire[..]).await.unwrap();
        assert_eq!(echoed["payload"], "hé");
    }

    #[tokio::test]
    async fn a_short_or_huge_frame_is_an_error() {
        let short = [0u8, 0, 0, 9, b'{'];
        assert!(matches!(
            read::<_, serde_json::Value>(&mut &short[..]).await,
            Err(FrameError::Closed)
        ));
        let huge = (MAX_FRAME + 1).to_be_bytes();
        assert!(matches!(
            read::<_, serde_json::Value>(&mut &huge[..]).await,
            Err(FrameError::TooLarge { .. })
        ));
        let bad = [0u8, 0, 0, 1, b'x'];
        assert!(matches!(
            read::<_, Reply>(&mut &bad[..]).await,
            Err(FrameError::Json { .. })
        ));
    }

    #[test]
    fn a_status_must_be_an_http_status() {
        let reply = |status: serde_json::Value| Reply {
            status_code: status,
            response: String::new(),
            stdout: String::new(),
            stderr: String::new(),
        };
        assert_eq!(reply(serde_json::json!(201)).status(), Some(201));
        assert_eq!(reply(serde_json::json!("404")).status(), Some(404));
        assert_eq!(reply(serde_json::json!(42)).status(), None);
        assert_eq!(reply(serde_json::json!(200.5)).status(), None);
        assert_eq!(reply(serde_json::Value::Null).status(), None);
    }

    #[test]
    fn truncation_respects_character_boundaries() {
        assert_eq!(truncate("héllo".into(), 2), "h");
        assert_eq!(truncate("héllo".into(), 3), "hé");
        assert_eq!(truncate("abc".into(), 10), "abc");
        assert_eq!(truncate("€€".into(), 4), "€");
    }
}
