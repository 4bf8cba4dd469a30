//! The executable's symbol table, for full function names where the debug info has
//! short ones.
//!
//! A release build with `debug = "line-tables-only"` names functions in its DWARF by
//! their last segment only (`apply_coupon`), while the symbol table keeps the full,
//! mangled path (`axum_app::checkout::apply_coupon`). The table is read once, lazily, by
//! the worker thread (never on the request path), and only the function symbols are
//! kept.

use std::sync::OnceLock;

use object::{Object, ObjectSymbol, SymbolKind};

/// Function symbols of the running executable, by run-time address.
#[derive(Debug)]
pub(crate) struct SymbolTable {
    /// (start address at run time, size, mangled name), sorted by address.
    functions: Vec<(u64, u64, Box<str>)>,
}

/// The running executable's table, or `None` when it cannot be read (stripped binary,
/// no access to the file, an unknown format).
pub(crate) fn current() -> Option<&'static SymbolTable> {
    static TABLE: OnceLock<Option<SymbolTable>> = OnceLock::new();
    TABLE.get_or_init(SymbolTable::load).as_ref()
}

/// A function whose run-time address tells how far the executable was moved when it
/// was loaded (position-independent executables load anywhere).
#[inline(never)]
fn anchor() -> u64 {
    std::hint::black_box(0x4d61_7964_6179)
}

const ANCHOR_PATH: &str = "mayday_reporter::frames::symtab::anchor";

impl SymbolTable {
    fn load() -> Option<SymbolTable> {
        let path = std::env::current_exe().ok()?;
        let file = std::fs::File::open(path).ok()?;
        // Reads only the parts of the file it needs (headers, symbols, names).
        let cache = object::ReadCache::new(file);
        let object = object::File::parse(&cache).ok()?;
        let mut functions = Vec::new();
        let mut anchor_address = None;
        for symbol in object.symbols() {
            if symbol.kind() != SymbolKind::Text || symbol.address() == 0 {
                continue;
            }
            let Ok(name) = symbol.name() else { continue };
            if anchor_address.is_none() && name.contains("anchor") && demangle(name) == ANCHOR_PATH
            {
                anchor_address = Some(symbol.address());
            }
            functions.push((symbol.address(), symbol.size(), Box::from(name)));
        }
        let bias = (anchor as fn() -> u64 as usize as u64).wrapping_sub(anchor_address?);
        for entry in &mut functions {
            entry.0 = entry.0.wrapping_add(bias);
        }
        functions.sort_unstable_by_key(|entry| entry.0);
        Some(SymbolTable { functions })
    }

    /// The demangled name of the function starting at `start`, or else of the one
    /// containing `ip` (both run-time addresses).
    pub(crate) fn name(&self, start: u64, ip: u64) -> Option<String> {
        let exact = self
            .functions
            .binary_search_by_key(&start, |entry| entry.0)
            .ok()
            .map(|index| &self.functions[index].2);
        let containing = || {
            // A return address points just past the call: look up the byte before it.
            let probe = ip.saturating_sub(1);
            let index = self.functions.partition_point(|entry| entry.0 <= probe);
            let (address, size, name) = self.functions.get(index.checked_sub(1)?)?;
            (probe < address.saturating_add(*size)).then_some(name)
        };
        exact.or_else(containing).map(|name| demangle(name))
    }
}

/// The readable form of a mangled name (legacy or v0), without the hash.
fn demangle(mangled: &str) -> String {
    format!("{:#}", rustc_demangle::demangle(mangled))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_full_names_of_this_binary() {
        let Some(table) = current() else {
            panic!("the test binary has a symbol table");
        };
        let address = anchor as fn() -> u64 as usize as u64;
        assert_eq!(
            table.name(address, address + 1).as_deref(),
            Some(ANCHOR_PATH)
        );
        // An address inside the function, without its start.
        assert_eq!(table.name(0, address + 2).as_deref(), Some(ANCHOR_PATH));
        assert_eq!(table.name(1, 1), None);
    }
}
