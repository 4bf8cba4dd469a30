//! Looking one frame up: which image an unnamed frame is in, and what its debug file
//! says is at its address, in the form the reporter's own resolution gives.

use addr2line::Loader;
use mayday_protocol::{DebugImage, Event, Frame, parse_addr};
use mayday_reporter::frames::RawSymbol;

/// The image and address of a frame that has an address and no name.
pub(super) fn unnamed<'a>(
    frame: &Frame,
    images: &'a [DebugImage],
) -> Option<(&'a DebugImage, u64)> {
    if frame.function.is_some() || frame.filename.is_some() {
        return None;
    }
    let address = frame.instruction_addr.as_deref().and_then(parse_addr)?;
    let image = images.iter().find(|image| {
        let start = image.image_addr.as_deref().and_then(parse_addr);
        match (&frame.image_addr, start) {
            (Some(given), Some(start)) => parse_addr(given) == Some(start),
            (None, Some(start)) => {
                let size = image.image_size.unwrap_or(0);
                start <= address && address < start.saturating_add(size)
            }
            _ => false,
        }
    })?;
    Some((image, address))
}

/// The symbols at `probe` (an address in the file's own terms), innermost first, as
/// the reporter's resolution gives them for a frame at run-time address `ip`: the
/// functions inlined there, then the function itself (its full name from the symbol
/// table where the line tables name it by its last segment).
pub(super) fn lookup(loader: &Loader, probe: u64, ip: u64) -> Vec<RawSymbol> {
    let mut found = Vec::new();
    if let Ok(mut iter) = loader.find_frames(probe) {
        while let Ok(Some(frame)) = iter.next() {
            let name = frame
                .function
                .as_ref()
                .and_then(|f| f.raw_name().ok())
                .map(|raw| demangle(&raw));
            let location = frame.location.as_ref();
            found.push(RawSymbol {
                ip,
                inlined: true,
                name,
                full_name: None,
                file: location.and_then(|l| l.file).map(str::to_owned),
                line: location.and_then(|l| l.line),
                column: location.and_then(|l| l.column),
            });
        }
    }
    let full = loader.find_symbol(probe).map(demangle);
    match found.last_mut() {
        Some(outermost) => {
            outermost.inlined = false;
            if outermost.name.as_deref().is_none_or(|n| !n.contains("::")) {
                outermost.full_name = full;
            }
        }
        None if full.is_some() => found.push(RawSymbol {
            ip,
            name: full,
            ..Default::default()
        }),
        None => {}
    }
    found
}

/// A frame the reporter named, back in the form its resolution gave.
pub(super) fn as_raw(frame: &Frame, ip: u64) -> RawSymbol {
    RawSymbol {
        ip,
        inlined: false,
        name: frame.function.clone(),
        full_name: None,
        file: frame.abs_path.clone().or_else(|| frame.filename.clone()),
        line: frame.lineno.and_then(|l| u32::try_from(l).ok()),
        column: frame.colno.and_then(|c| u32::try_from(c).ok()),
    }
}

/// The readable form of a (possibly) mangled name, without the hash, as the reporter
/// writes them.
fn demangle(name: &str) -> String {
    match rustc_demangle::try_demangle(name) {
        Ok(demangled) => format!("{demangled:#}"),
        Err(_) => name.to_owned(),
    }
}

/// What the reporter said of the app (`debug_meta.mayday_app`): its crate and source
/// folders, which decide which frames are the app's own.
pub(super) struct App {
    pub(super) krate: String,
    pub(super) manifest_dir: String,
    pub(super) reporter_dir: String,
}

impl App {
    pub(super) fn of(event: &Event) -> App {
        let said = event
            .debug_meta
            .as_ref()
            .and_then(|m| m.other.get("mayday_app"));
        let text = |key: &str| {
            said.and_then(|s| s[key].as_str())
                .unwrap_or_default()
                .to_owned()
        };
        App {
            krate: text("crate"),
            manifest_dir: text("manifest_dir"),
            reporter_dir: text("reporter_dir"),
        }
    }
}
