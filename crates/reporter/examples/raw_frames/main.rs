//! Prints the raw symbols of a panic's backtrace as this build resolves them: the
//! fixtures of the frame tests (`src/frames/fixtures/`), one file per debug setting.
//!
//! ```sh
//! CARGO_PROFILE_RELEASE_DEBUG=line-tables-only cargo run -q --release \
//!     -p mayday-reporter --example raw_frames > src/frames/fixtures/release-line-tables-only.tsv
//! ```
//!
//! The app part (`shop.rs`) panics with an index out of bounds two calls deep, through a
//! closure. The hook below prints what `frames::resolve` reads, leaving out only the
//! hook's own frames (in the reporter, the hook's frames are its own and are trimmed as
//! such; here they would be the example's).

mod shop;

use std::io::Write;

fn main() {
    std::panic::set_hook(Box::new(print_raw));
    // A value the compiler cannot see, so the index is checked at run time.
    let line = std::env::args().count() + 2;
    println!("{}", shop::checkout::total(line));
}

#[inline(never)]
fn print_raw(_: &std::panic::PanicHookInfo<'_>) {
    let mut backtrace = backtrace::Backtrace::new_unresolved();
    let manifest = env!("CARGO_MANIFEST_DIR");
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "# app=raw_frames manifest_dir={manifest}/examples/raw_frames reporter_dir={manifest}/src"
    );
    for symbol in mayday_reporter::frames::resolve(&mut backtrace) {
        let own = [&symbol.name, &symbol.full_name]
            .iter()
            .any(|name| name.as_deref().is_some_and(|n| n.contains("print_raw")));
        if !own {
            let _ = writeln!(out, "{symbol}");
        }
    }
}
