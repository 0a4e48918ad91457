//! The process's memory allocator: jemalloc, for Rust and for the SQLite library linked
//! into the binary alike (its `malloc` and `free` are jemalloc's), with background threads
//! that hand freed pages back to the kernel.
//!
//! Why not the system allocator: glibc gives each thread that allocates its own arena
//! (tokio's workers, the blocking pool, sqlx's one thread per SQLite connection) and
//! returns memory to the kernel only from the top of each arena. Under a long soak the
//! freed space stayed resident: BENCHMARKS.md › "Results — 2026-12-07 (memory)" measured
//! ~180 MiB of a 415 MiB `RssAnon` as free but unreturned glibc memory. jemalloc purges
//! unused dirty pages after its decay time (10 s by default), from a background thread
//! even when the server is idle.
//!
//! The `heap-profile` feature replaces the Rust side with dhat's allocator
//! (`heap_profile.rs`).

#[cfg(not(feature = "heap-profile"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// The allocator's totals for `/metrics` (docs/api.md › `GET /metrics`): live bytes, the pages
/// holding them, and what jemalloc keeps resident. `None` if jemalloc cannot say, and
/// always with the `heap-profile` feature (dhat is the allocator then).
pub(crate) fn heap_figures() -> Option<fandesk_service::HeapFigures> {
    #[cfg(not(feature = "heap-profile"))]
    {
        use tikv_jemalloc_ctl::{epoch, stats};
        // The totals are a snapshot taken when the epoch advances.
        epoch::advance().ok()?;
        Some(fandesk_service::HeapFigures {
            allocated: stats::allocated::read().ok()? as u64,
            active: stats::active::read().ok()? as u64,
            resident: stats::resident::read().ok()? as u64,
        })
    }
    #[cfg(feature = "heap-profile")]
    None
}
