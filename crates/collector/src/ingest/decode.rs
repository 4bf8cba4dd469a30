//! Request bodies: `Content-Encoding` with a cap on the decompressed size.
//!
//! Decoders read at most `limit + 1` bytes of output, so a decompression bomb costs at
//! most `limit` bytes of memory and stops as soon as it passes the limit.

use std::io::{Read, Write};

/// Why a body could not be decoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    /// An encoding other than gzip, x-gzip, deflate, br, zstd or identity.
    #[error("unsupported Content-Encoding {0:?} (use gzip, deflate, br, zstd or identity)")]
    Unsupported(String),
    /// More layers of encoding than allowed.
    #[error("{0} Content-Encoding layers; at most {MAX_LAYERS} are accepted")]
    TooManyLayers(usize),
    /// More than `limit` bytes after decompression.
    #[error("body is larger than {limit} bytes after decompression")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// The compressed data is corrupt.
    #[error("body is not valid {encoding}: {reason}")]
    Corrupt {
        /// The encoding.
        encoding: String,
        /// What the decoder said.
        reason: String,
    },
}

/// Most `Content-Encoding` layers undone: each layer multiplies what a small body can
/// cost, and no SDK applies more than one.
pub const MAX_LAYERS: usize = 2;

/// The codings of a `Content-Encoding` header, in the order they were applied (identity
/// left out): at most [`MAX_LAYERS`], each one this collector knows.
pub fn parse_codings(encoding: Option<&str>) -> Result<Vec<String>, DecodeError> {
    let codings: Vec<String> = encoding
        .unwrap_or("")
        .split(',')
        .map(|c| c.trim().to_ascii_lowercase())
        .filter(|c| !c.is_empty() && c != "identity")
        .collect();
    if codings.len() > MAX_LAYERS {
        return Err(DecodeError::TooManyLayers(codings.len()));
    }
    if let Some(unknown) = codings
        .iter()
        .find(|c| !matches!(c.as_str(), "gzip" | "x-gzip" | "deflate" | "br" | "zstd"))
    {
        return Err(DecodeError::Unsupported(unknown.clone()));
    }
    Ok(codings)
}

/// Decodes `body` sent with `Content-Encoding: encoding`, to at most `limit` bytes.
pub fn decode_body(
    encoding: Option<&str>,
    body: &[u8],
    limit: usize,
) -> Result<Vec<u8>, DecodeError> {
    decode_with(&parse_codings(encoding)?, body, limit)
}

/// Undoes `codings` (from [`parse_codings`]), last applied first.
pub fn decode_with(codings: &[String], body: &[u8], limit: usize) -> Result<Vec<u8>, DecodeError> {
    if codings.is_empty() {
        if body.len() > limit {
            return Err(DecodeError::TooLarge { limit });
        }
        return Ok(body.to_vec());
    }
    let mut data = body.to_vec();
    for coding in codings.iter().rev() {
        data = decode_one(coding, &data, limit)?;
    }
    Ok(data)
}

/// A writer that undoes `codings` as data is written to it, and writes the result to
/// `sink`: for reading the start of a body before all of it has arrived.
pub fn streaming(
    codings: &[String],
    sink: impl Write + Send + 'static,
) -> Result<Box<dyn Write + Send>, DecodeError> {
    let mut writer: Box<dyn Write + Send> = Box::new(sink);
    // The first coding applied is undone last: it sits innermost.
    for coding in codings {
        writer = match coding.as_str() {
            "gzip" | "x-gzip" => Box::new(flate2::write::GzDecoder::new(writer)),
            "deflate" => Box::new(flate2::write::ZlibDecoder::new(writer)),
            "br" => Box::new(brotli::DecompressorWriter::new(writer, 4096)),
            "zstd" => Box::new(zstd::stream::write::Decoder::new(writer).map_err(|e| {
                DecodeError::Corrupt {
                    encoding: coding.clone(),
                    reason: e.to_string(),
                }
            })?),
            other => return Err(DecodeError::Unsupported(other.to_owned())),
        };
    }
    Ok(writer)
}

fn decode_one(coding: &str, data: &[u8], limit: usize) -> Result<Vec<u8>, DecodeError> {
    match coding {
        "gzip" | "x-gzip" => read_capped(flate2::read::MultiGzDecoder::new(data), coding, limit),
        "deflate" => {
            // HTTP's deflate is zlib-wrapped, but some clients send raw deflate.
            read_capped(flate2::read::ZlibDecoder::new(data), coding, limit).or_else(|error| {
                match error {
                    DecodeError::Corrupt { .. } => {
                        read_capped(flate2::read::DeflateDecoder::new(data), coding, limit)
                    }
                    other => Err(other),
                }
            })
        }
        "br" => read_capped(brotli::Decompressor::new(data, 4096), coding, limit),
        "zstd" => {
            let decoder =
                zstd::stream::read::Decoder::new(data).map_err(|e| DecodeError::Corrupt {
                    encoding: coding.to_owned(),
                    reason: e.to_string(),
                })?;
            read_capped(decoder, coding, limit)
        }
        other => Err(DecodeError::Unsupported(other.to_owned())),
    }
}

fn read_capped(reader: impl Read, coding: &str, limit: usize) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    reader
        .take(cap)
        .read_to_end(&mut out)
        .map_err(|e| DecodeError::Corrupt {
            encoding: coding.to_owned(),
            reason: e.to_string(),
        })?;
    if out.len() > limit {
        return Err(DecodeError::TooLarge { limit });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    const TEXT: &[u8] = b"{\"message\":\"hello hello hello hello\"}";

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn every_encoding_round_trips() {
        let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        zlib.write_all(TEXT).unwrap();
        let mut raw =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        raw.write_all(TEXT).unwrap();
        let mut br = Vec::new();
        {
            let mut w = brotli::CompressorWriter::new(&mut br, 4096, 5, 22);
            w.write_all(TEXT).unwrap();
        }
        let zstd = zstd::stream::encode_all(TEXT, 3).unwrap();
        let cases: Vec<(Option<&str>, Vec<u8>)> = vec![
            (None, TEXT.to_vec()),
            (Some("identity"), TEXT.to_vec()),
            (Some("gzip"), gzip(TEXT)),
            (Some("x-gzip"), gzip(TEXT)),
            (Some("deflate"), zlib.finish().unwrap()),
            (Some("deflate"), raw.finish().unwrap()),
            (Some("br"), br),
            (Some("zstd"), zstd),
            (Some("GZIP"), gzip(TEXT)),
        ];
        for (encoding, body) in cases {
            assert_eq!(
                decode_body(encoding, &body, 1024).unwrap(),
                TEXT,
                "{encoding:?}"
            );
        }
    }

    #[test]
    fn a_decompression_bomb_stops_at_the_limit() {
        let bomb = gzip(&vec![0u8; 64 << 20]);
        assert!(bomb.len() < 100 << 10, "64 MiB of zeros compresses small");
        assert_eq!(
            decode_body(Some("gzip"), &bomb, 1 << 20),
            Err(DecodeError::TooLarge { limit: 1 << 20 })
        );
    }

    #[test]
    fn errors_name_the_problem() {
        assert!(matches!(
            decode_body(Some("compress"), TEXT, 1024),
            Err(DecodeError::Unsupported(_))
        ));
        assert!(matches!(
            decode_body(Some("gzip"), b"not gzip", 1024),
            Err(DecodeError::Corrupt { .. })
        ));
        assert_eq!(
            decode_body(None, TEXT, 4),
            Err(DecodeError::TooLarge { limit: 4 })
        );
    }
}
