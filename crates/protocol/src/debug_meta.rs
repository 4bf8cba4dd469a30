//! Sentry's `debug_meta`: the images (executable and shared objects) an event's
//! instruction addresses belong to, so that a server can symbolicate frames a stripped
//! binary could not name, from the image's debug file.

use serde::Serialize;

use crate::event::Other;
use crate::known_fields::deserialize_keeping_other;

/// The images loaded in the process that sent the event.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DebugMeta {
    /// The images.
    pub images: Vec<DebugImage>,
    /// Fields this model does not know, kept verbatim.
    #[serde(flatten)]
    pub other: Other,
}

deserialize_keeping_other!(DebugMeta {
    "images" => images,
});

/// One loaded image.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DebugImage {
    /// `elf` (Linux), `macho`, `pe`.
    #[serde(rename = "type")]
    pub ty: String,
    /// The image's identifier: the hex GNU build id for ELF.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_id: Option<String>,
    /// The identifier of its debug file: for ELF, derived from the build id as Sentry
    /// does ([`debug_id_of_build_id`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debug_id: Option<String>,
    /// Where it was loaded (its first loadable segment), as a hex string.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_addr: Option<String>,
    /// Its size in memory, in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_size: Option<u64>,
    /// The address its first loadable segment asks for (0 for position-independent
    /// executables), as a hex string.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_vmaddr: Option<String>,
    /// Its path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_file: Option<String>,
    /// Fields this model does not know, kept verbatim.
    #[serde(flatten)]
    pub other: Other,
}

deserialize_keeping_other!(DebugImage {
    "type" => ty,
    "code_id" => code_id,
    "debug_id" => debug_id,
    "image_addr" => image_addr,
    "image_size" => image_size,
    "image_vmaddr" => image_vmaddr,
    "code_file" => code_file,
});

/// Sentry's debug id of an ELF image from its GNU build id: the first 16 bytes (padded
/// with zeros) read as a little-endian GUID, so the first three fields are byte-swapped,
/// written as a UUID (`b7c1...`). Sentry, `sentry-cli` and symbolic compute it so.
pub fn debug_id_of_build_id(build_id: &[u8]) -> String {
    let mut bytes = [0u8; 16];
    let n = build_id.len().min(16);
    bytes[..n].copy_from_slice(&build_id[..n]);
    bytes[0..4].reverse();
    bytes[4..6].reverse();
    bytes[6..8].reverse();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// A hex address (`0x7f3a...`, or without the prefix) as a number.
pub fn parse_addr(text: &str) -> Option<u64> {
    let text = text.trim();
    let hex = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X"));
    match hex {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_ids_as_sentry_derives_them() {
        // A 20-byte build id, as `file` prints it.
        let build_id: Vec<u8> = (0..20).collect();
        assert_eq!(
            debug_id_of_build_id(&build_id),
            "03020100-0504-0706-0809-0a0b0c0d0e0f"
        );
        assert_eq!(
            debug_id_of_build_id(&[0xab, 0xcd]),
            "0000cdab-0000-0000-0000-000000000000"
        );
        assert_eq!(parse_addr("0x7f00"), Some(0x7f00));
        assert_eq!(parse_addr("32512"), Some(32512));
    }
}
