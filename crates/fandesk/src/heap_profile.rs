//! The `heap-profile` build feature: a heap profile of `fandesk serve` for finding what
//! holds memory (BENCHMARKS.md › memory). Off by default: dhat's allocator records a
//! backtrace per allocation and slows the server several times over.
//!
//! With the feature, dhat is the global allocator and the profile is written when a
//! shutdown is requested (SIGTERM or Ctrl-C), *before* the server tears its state down,
//! so its "t-end" is what the running server held then — with the clients gone, what
//! history left behind. The file is `FANDESK_HEAP_PROFILE` (default `dhat-heap.json` in
//! the working directory); open it in dhat's viewer (`dh_view.html`, shipped with
//! Valgrind). Memory that SQLite allocates itself does not pass through Rust's allocator
//! and is not in the profile.

#[cfg(feature = "heap-profile")]
#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

/// Starts recording (with the feature) and writes the profile once `shutdown` is
/// cancelled. Without the feature, does nothing.
pub(crate) fn record_until(shutdown: tokio_util::sync::CancellationToken) {
    #[cfg(feature = "heap-profile")]
    {
        let file = std::env::var_os("FANDESK_HEAP_PROFILE")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| "dhat-heap.json".into());
        eprintln!(
            "heap profile: recording; written to {} at shutdown",
            file.display()
        );
        let profiler = dhat::Profiler::builder()
            .file_name(file)
            // Deep enough to get from the allocation past tokio and sqlx into our code.
            .trim_backtraces(Some(40))
            .build();
        tokio::spawn(async move {
            shutdown.cancelled().await;
            drop(profiler);
        });
    }
    #[cfg(not(feature = "heap-profile"))]
    let _ = shutdown;
}
