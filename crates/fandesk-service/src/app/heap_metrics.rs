//! The memory allocator's own figures on `/metrics` (docs/api.md › `GET /metrics`):
//! `fandesk_heap_allocated_bytes` (what the program holds), `fandesk_heap_active_bytes`
//! (the pages those allocations occupy) and `fandesk_heap_resident_bytes` (what the
//! allocator keeps in RAM, freed pages not yet returned included). Together with the
//! process's resident memory they tell held memory apart from memory the allocator keeps.
//!
//! The service does not know the allocator: the binary that chose it hands a
//! [`HeapReader`] to [`Metrics::set_heap_reader`](super::metrics::Metrics::set_heap_reader).
//! Without one (tests, another allocator) the three gauges are absent, never zero.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Unit;
use std::sync::OnceLock;

/// The allocator's totals, in bytes, at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeapFigures {
    /// Bytes in live allocations.
    pub allocated: u64,
    /// Bytes of the pages that hold live allocations.
    pub active: u64,
    /// Bytes the allocator has resident in RAM: active pages, its metadata and freed pages
    /// it has not yet handed back to the kernel.
    pub resident: u64,
}

/// Reads the allocator's figures now; `None` when it cannot say.
pub type HeapReader = fn() -> Option<HeapFigures>;

/// The collector registered once in the metrics registry; reads at each scrape.
#[derive(Debug, Default)]
pub(crate) struct HeapCollector {
    pub(crate) reader: OnceLock<HeapReader>,
}

impl Collector for HeapCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some(figures) = self.reader.get().and_then(|read| read()) else {
            return Ok(());
        };
        let gauges = [
            (
                "heap_allocated",
                "Bytes in live allocations, as the memory allocator counts them",
                figures.allocated,
            ),
            (
                "heap_active",
                "Bytes of the allocator's pages that hold live allocations",
                figures.active,
            ),
            (
                "heap_resident",
                "Bytes the allocator keeps in RAM, freed pages not yet returned included",
                figures.resident,
            ),
        ];
        for (name, help, value) in gauges {
            // Gauges are i64 in the exposition; a heap never nears 2^63 bytes.
            let gauge = ConstGauge::new(i64::try_from(value).unwrap_or(i64::MAX));
            let metric =
                encoder.encode_descriptor(name, help, Some(&Unit::Bytes), gauge.metric_type())?;
            gauge.encode(metric)?;
        }
        Ok(())
    }
}
