//! A program built with `panic = "abort"`: nothing unwinds, so no layer can catch the
//! panic, and the process ends right after the panic hook. The reporter's hook sends the
//! panic's event and waits for it (at most the abort deadline, 2 s by default) first.
//!
//! ```sh
//! MAYDAY_DSN=http://<key>@127.0.0.1:8300/1 \
//!     cargo run --profile abort -p abort-app
//! ```

fn main() -> Result<(), mayday_reporter::ReporterError> {
    let reporter = mayday_reporter::Reporter::from_env(mayday_reporter::build_info!())?;
    let queue: Vec<u32> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let next = queue.first().copied();
    let job = next.unwrap_or_else(|| panic!("the job queue is empty ({} jobs)", queue.len()));
    println!("job {job}");
    reporter.flush_blocking(std::time::Duration::from_secs(2));
    Ok(())
}
