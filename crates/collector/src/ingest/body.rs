//! Reading request bodies within budgets, so that nobody can exhaust the collector
//! without a key, and a key holder only so far:
//!
//! - bytes in flight across all requests are capped: past the cap a request is answered
//!   503 with `Retry-After` before (more of) its body is read;
//! - a body is read up to the envelope limit, and its `Content-Encoding` (at most two
//!   layers) is undone in the blocking pool, a few at a time, with the decompressed size
//!   capped too;
//! - when only the envelope's header names the key, just its first line is read (and
//!   decompressed) before the key is checked.

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use http_body_util::BodyExt;
use tokio::sync::Semaphore;

use super::decode::{self, DecodeError};
use crate::pipeline::in_flight::{Busy, Reservation};

/// The longest envelope header line read before the key is known.
pub const MAX_FIRST_LINE: usize = 16 << 10;

/// Why a body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// Larger than allowed, raw or decompressed.
    #[error("body is larger than {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// The collector is reading as many bytes as it allows at once.
    #[error(transparent)]
    Busy(#[from] Busy),
    /// The encoding is unknown or the data corrupt.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The connection failed while reading.
    #[error("reading the body failed: {0}")]
    Read(String),
}

/// Reads the rest of `body` after `prefix`, up to `limit` bytes in all, holding them in
/// `reservation`.
pub async fn read_all(
    mut body: Body,
    prefix: Vec<u8>,
    limit: usize,
    reservation: &mut Reservation,
) -> Result<Bytes, BodyError> {
    let mut data = prefix;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| BodyError::Read(e.to_string()))?;
        let Ok(chunk) = frame.into_data() else {
            continue;
        };
        if data.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge { limit });
        }
        reservation.grow(chunk.len())?;
        data.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(data))
}

/// Reads `body` until its decoded first line is complete (the envelope header); returns
/// the raw bytes read so far, the first line, and the body to read the rest from.
pub async fn read_first_line(
    mut body: Body,
    codings: &[String],
    reservation: &mut Reservation,
) -> Result<(Vec<u8>, Vec<u8>, Body), BodyError> {
    let sink = Arc::new(Mutex::new(Vec::new()));
    let mut decoder = decode::streaming(codings, SharedSink(sink.clone()))?;
    let mut raw = Vec::new();
    let line = loop {
        let decoded = sink.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(end) = decoded.iter().position(|b| *b == b'\n') {
            break decoded[..end].to_vec();
        }
        if decoded.len() > MAX_FIRST_LINE || raw.len() > MAX_FIRST_LINE * 4 {
            return Err(BodyError::TooLarge {
                limit: MAX_FIRST_LINE,
            });
        }
        match body.frame().await {
            Some(frame) => {
                let frame = frame.map_err(|e| BodyError::Read(e.to_string()))?;
                let Ok(chunk) = frame.into_data() else {
                    continue;
                };
                reservation.grow(chunk.len())?;
                raw.extend_from_slice(&chunk);
                // A corrupt stream shows up here; a truncated one just yields no line.
                decoder
                    .write_all(&chunk)
                    .map_err(|e| DecodeError::Corrupt {
                        encoding: codings.join(", "),
                        reason: e.to_string(),
                    })?;
                let _ = decoder.flush();
            }
            // The whole body is one line.
            None => break sink.lock().unwrap_or_else(|p| p.into_inner()).clone(),
        }
    };
    Ok((raw, line, body))
}

/// Undoes `codings` in the blocking pool, holding one of `permits` meanwhile, so that a
/// few expensive bodies never stall the request threads (or one another unboundedly).
pub async fn decode(
    raw: Bytes,
    codings: Vec<String>,
    limit: usize,
    permits: &Arc<Semaphore>,
) -> Result<Vec<u8>, BodyError> {
    if codings.is_empty() {
        if raw.len() > limit {
            return Err(BodyError::TooLarge { limit });
        }
        return Ok(raw.to_vec());
    }
    let _permit = permits
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| BodyError::Busy(Busy))?;
    tokio::task::spawn_blocking(move || decode::decode_with(&codings, &raw, limit))
        .await
        .map_err(|e| BodyError::Read(e.to_string()))?
        .map_err(|error| match error {
            DecodeError::TooLarge { limit } => BodyError::TooLarge { limit },
            other => BodyError::Decode(other),
        })
}

/// A writer into a shared buffer: the innermost end of a chain of streaming decoders.
struct SharedSink(Arc<Mutex<Vec<u8>>>);

impl Write for SharedSink {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let mut buffer = self.0.lock().unwrap_or_else(|p| p.into_inner());
        // Nothing past what the first line may need is kept.
        let room = (MAX_FIRST_LINE * 2).saturating_sub(buffer.len());
        buffer.extend_from_slice(&data[..data.len().min(room)]);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::in_flight::InFlight;

    #[tokio::test]
    async fn the_first_line_of_a_compressed_envelope_is_read_alone() {
        let mut envelope = b"{\"dsn\":\"http://key@localhost/1\"}\n".to_vec();
        envelope.extend(std::iter::repeat_n(b'x', 1 << 20));
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gzip.write_all(&envelope).unwrap();
        let compressed = gzip.finish().unwrap();
        let chunks: Vec<Result<Bytes, std::io::Error>> = compressed
            .chunks(512)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let body = Body::from_stream(futures_util::stream::iter(chunks));
        let budget = InFlight::new(usize::MAX);
        let mut reservation = budget.reservation();
        let (raw, line, rest) = read_first_line(body, &["gzip".into()], &mut reservation)
            .await
            .unwrap();
        assert_eq!(line, b"{\"dsn\":\"http://key@localhost/1\"}");
        assert!(raw.len() < compressed.len(), "only a prefix was read");
        let all = read_all(rest, raw, 1 << 22, &mut reservation)
            .await
            .unwrap();
        assert_eq!(all.len(), compressed.len());
    }
}
