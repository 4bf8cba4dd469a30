//! Turning a captured backtrace into Sentry frames that are right in every build a user
//! ships: debug, release with line tables (`debug = "line-tables-only"`, `1`, `true`),
//! and release without debug info.
//!
//! Two steps, so that the second can be tested on what real builds produce:
//!
//! 1. [`resolve`] reads symbols: names and lines from the debug info, full names from
//!    the symbol table where the debug info has only a function's last segment. Slow
//!    (milliseconds); it runs in the reporter's worker thread, never on the request path.
//! 2. [`process`] is pure: it names each frame with its full path (no hash, no generic
//!    arguments), decides in-app by where the code comes from (the file, see
//!    [`origin`]), trims the capture and panic machinery and the thread start-up, and
//!    keeps at most [`MAX_FRAMES`].

mod names;
pub mod origin;
mod symtab;
mod trim;

use std::fmt;
use std::str::FromStr;

use backtrace::Backtrace;
use mayday_protocol::{Frame, Stacktrace};

pub use names::{clean, split_path, strip_hash};
pub use origin::{AppSource, Location, Origin, REPORTER_DIR};
pub use trim::MAX_FRAMES;
use trim::Role;

/// Explicit in-app choices, on top of what the file of each frame says.
#[derive(Debug, Clone, Default)]
pub struct InAppRules {
    /// Crates that are always in-app, wherever their code is (a private registry crate
    /// of your own, say).
    pub include: Vec<String>,
    /// Crates that are never in-app, even in your workspace.
    pub exclude: Vec<String>,
}

/// One symbol of a backtrace as resolution found it: a frame, or a function inlined
/// into one (several symbols then share an instruction address, innermost first).
///
/// Its text form, one tab-separated line (`-` for nothing), is what the frame tests'
/// fixtures hold: `ip inlined name full_name file line column`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawSymbol {
    /// The frame's instruction address.
    pub ip: u64,
    /// Whether this function was inlined into the next symbol of the same frame.
    pub inlined: bool,
    /// The name as the debug info (or the symbol table) gives it, demangled.
    pub name: Option<String>,
    /// The symbol table's full name of the frame's function, when `name` is short.
    pub full_name: Option<String>,
    /// The source file.
    pub file: Option<String>,
    /// The line.
    pub line: Option<u32>,
    /// The column.
    pub column: Option<u32>,
}

/// Resolves `backtrace` (innermost frame first) into raw symbols.
///
/// Call it off the request path: it reads debug info and, when names are short, the
/// executable's symbol table.
pub fn resolve(backtrace: &mut Backtrace) -> Vec<RawSymbol> {
    backtrace.resolve();
    let mut raw = Vec::new();
    for frame in backtrace.frames() {
        let ip = frame.ip() as u64;
        let start = frame.symbol_address() as u64;
        let full_name = || symtab::current().and_then(|table| table.name(start, ip));
        let symbols = frame.symbols();
        if symbols.is_empty() {
            raw.push(RawSymbol {
                ip,
                full_name: full_name(),
                ..Default::default()
            });
            continue;
        }
        let outermost = symbols.len() - 1;
        for (index, symbol) in symbols.iter().enumerate() {
            let name = symbol.name().map(|n| format!("{n:#}"));
            let inlined = index < outermost;
            let short = name.as_deref().is_none_or(names::is_short);
            raw.push(RawSymbol {
                ip,
                inlined,
                full_name: if short && !inlined { full_name() } else { None },
                name,
                file: symbol
                    .filename()
                    .map(|path| path.to_string_lossy().into_owned()),
                line: symbol.lineno(),
                column: symbol.colno(),
            });
        }
    }
    raw
}

/// Reads a backtrace as the standard library renders it (`std::backtrace::Backtrace`'s
/// `Display`, which is all it offers on stable Rust; `anyhow` captures those):
///
/// ```text
///    0: shop::checkout::apply_coupon
///              at ./src/checkout.rs:12:5
/// ```
///
/// There are no addresses, so no symbol table names: short names are completed from
/// their files. The standard library prints paths under the current folder as `./...`;
/// they are made absolute again.
pub fn parse_rendered(text: &str) -> Vec<RawSymbol> {
    let current_dir = std::env::current_dir().ok();
    let absolute = |file: &str| match (file.strip_prefix("./"), &current_dir) {
        (Some(relative), Some(dir)) if file.ends_with(".rs") => {
            dir.join(relative).to_string_lossy().into_owned()
        }
        _ => file.to_owned(),
    };
    let mut raw: Vec<RawSymbol> = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if let Some(location) = trimmed.strip_prefix("at ") {
            let Some(last) = raw.last_mut() else { continue };
            // `path:line:column`, where the path may itself contain colons.
            let mut parts = location.rsplitn(3, ':');
            let column = parts.next().and_then(|c| c.parse().ok());
            let line_no = parts.next().and_then(|l| l.parse().ok());
            match (parts.next(), line_no) {
                (Some(file), Some(line_no)) => {
                    last.file = Some(absolute(file));
                    last.line = Some(line_no);
                    last.column = column;
                }
                _ => last.file = Some(absolute(location)),
            }
            continue;
        }
        let Some((number, name)) = trimmed.split_once(": ") else {
            continue;
        };
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        raw.push(RawSymbol {
            name: Some(name.to_owned()),
            ..Default::default()
        });
    }
    raw
}

/// Makes frames of `raw` (innermost first, as [`resolve`] gives them): full names,
/// in-app by origin, machinery trimmed, at most [`MAX_FRAMES`].
pub fn process(raw: &[RawSymbol], app: &AppSource<'_>, rules: &InAppRules) -> Stacktrace {
    let frames = raw
        .iter()
        .enumerate()
        .map(|(index, symbol)| frame_of(raw, index, symbol, app, rules))
        .collect();
    let (frames, omitted) = trim::trim(frames);
    Stacktrace {
        frames,
        frames_omitted: omitted,
        ..Default::default()
    }
}

/// [`resolve`] then [`process`].
pub fn stacktrace(
    backtrace: &mut Backtrace,
    app: &AppSource<'_>,
    rules: &InAppRules,
) -> Stacktrace {
    process(&resolve(backtrace), app, rules)
}

fn frame_of(
    raw: &[RawSymbol],
    index: usize,
    symbol: &RawSymbol,
    app: &AppSource<'_>,
    rules: &InAppRules,
) -> (Frame, Role) {
    let location = app.locate(symbol.file.as_deref());
    let named = function_name(raw, index, symbol, &location);
    let function = named.as_ref().map(|(name, _)| names::clean(name));
    let (name_module, name_package) = function.as_deref().map(split_path).unwrap_or_default();
    // The file knows the crate better than a name does (a generic instantiated with an
    // app type is named after the type, `<F as Handler>::call` after a parameter).
    let file_module = named.and_then(|(_, module)| module);
    let module = match (&location.krate, &name_package) {
        _ if file_module.is_some() => file_module,
        (Some(krate), Some(package)) if krate != package => location.module.clone(),
        _ => name_module,
    };
    let package = location.krate.clone().or(name_package);
    let in_app = is_in_app(&location, package.as_deref(), app, rules);
    let role = Role::of(
        function.as_deref(),
        package.as_deref(),
        location.origin == Origin::Reporter || package.as_deref() == Some("mayday_reporter"),
    );
    let abs_path = symbol
        .file
        .clone()
        .filter(|path| path.starts_with('/') && location.origin != Origin::Native);
    let frame = Frame {
        function,
        module,
        package,
        filename: location.filename,
        abs_path,
        lineno: symbol.line.map(u64::from),
        colno: symbol.column.map(u64::from),
        in_app: Some(in_app),
        instruction_addr: (symbol.ip != 0).then(|| format!("{:#x}", symbol.ip)),
        ..Default::default()
    };
    (frame, role)
}

/// The frame's function with its full path, from the best source there is: the name
/// itself when it has a path; else the symbol table's name of the frame's function;
/// else, for a closure or an async body, the function whose environment its callers
/// name; else, for a function inlined into a caller in the same file, the caller's
/// module (helpers usually live next to their callers, and inline `mod`s leave no trace
/// in the file name); else the module its file defines. The module is returned too when
/// it was inferred.
fn function_name(
    raw: &[RawSymbol],
    index: usize,
    symbol: &RawSymbol,
    location: &Location,
) -> Option<(String, Option<String>)> {
    let name = symbol.name.as_deref();
    if let Some(name) = name.filter(|n| !names::is_short(n)) {
        return Some((name.to_owned(), None));
    }
    if let Some(full) = &symbol.full_name {
        return Some((full.clone(), None));
    }
    let short = name?;
    if let Some(krate) = &location.krate {
        // The rest of this frame (the functions it was inlined into) and its callers.
        let context = raw[index..]
            .iter()
            .take(8)
            .filter_map(|s| s.name.as_deref());
        if let Some(owner) = names::closure_owner(short, krate, context) {
            return Some((format!("{owner}::{short}"), None));
        }
    }
    let caller = raw
        .get(index + 1)
        .filter(|caller| symbol.inlined && caller.ip == symbol.ip && caller.file == symbol.file);
    if let Some((caller_name, _)) = caller.and_then(|c| function_name(raw, index + 1, c, location))
    {
        let (caller_module, _) = split_path(&names::clean(&caller_name));
        if let Some(module) = caller_module.filter(|m| {
            location
                .module
                .as_ref()
                .is_none_or(|file_module| m.starts_with(file_module.as_str()))
        }) {
            return Some((format!("{module}::{short}"), Some(module)));
        }
    }
    match &location.module {
        Some(module) => Some((format!("{module}::{short}"), Some(module.clone()))),
        None => Some((short.to_owned(), None)),
    }
}

fn is_in_app(
    location: &Location,
    package: Option<&str>,
    app: &AppSource<'_>,
    rules: &InAppRules,
) -> bool {
    if location.origin == Origin::Reporter {
        return false;
    }
    if let Some(package) = package {
        if rules.exclude.iter().any(|c| c == package) {
            return false;
        }
        if rules.include.iter().any(|c| c == package) {
            return true;
        }
    }
    match location.origin {
        Origin::App => true,
        // No file (no debug info): only the name can tell.
        Origin::Unknown => package == Some(app.krate),
        Origin::Reporter | Origin::Dependency | Origin::Std | Origin::Native => false,
    }
}

impl fmt::Display for RawSymbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn or_dash<T: fmt::Display>(value: &Option<T>) -> String {
            value
                .as_ref()
                .map_or_else(|| "-".to_owned(), ToString::to_string)
        }
        write!(
            f,
            "{:#x}\t{}\t{}\t{}\t{}\t{}\t{}",
            self.ip,
            u8::from(self.inlined),
            or_dash(&self.name),
            or_dash(&self.full_name),
            or_dash(&self.file),
            or_dash(&self.line),
            or_dash(&self.column),
        )
    }
}

/// Why a line is not a [`RawSymbol`].
#[derive(Debug, thiserror::Error)]
#[error("not a raw symbol line ({0}): expected 7 tab-separated fields")]
pub struct RawSymbolError(&'static str);

impl FromStr for RawSymbol {
    type Err = RawSymbolError;

    fn from_str(line: &str) -> Result<Self, Self::Err> {
        let fields: Vec<&str> = line.split('\t').collect();
        let [ip, inlined, name, full_name, file, line, column] = fields[..] else {
            return Err(RawSymbolError("field count"));
        };
        let text = |s: &str| (s != "-").then(|| s.to_owned());
        let number = |s: &str| -> Result<Option<u32>, RawSymbolError> {
            if s == "-" {
                return Ok(None);
            }
            s.parse()
                .map(Some)
                .map_err(|_| RawSymbolError("line or column"))
        };
        Ok(RawSymbol {
            ip: u64::from_str_radix(ip.trim_start_matches("0x"), 16)
                .map_err(|_| RawSymbolError("ip"))?,
            inlined: inlined == "1",
            name: text(name),
            full_name: text(full_name),
            file: text(file),
            line: number(line)?,
            column: number(column)?,
        })
    }
}

#[cfg(test)]
mod tests;
