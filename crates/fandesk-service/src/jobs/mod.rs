//! Durable jobs and recurring tasks.

pub(crate) mod scheduler;
