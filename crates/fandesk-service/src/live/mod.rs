//! What goes out to connections: the typed server events ([`event`]), their frames per
//! audience ([`frame`]), publishing them on the bus ([`publish`]), topic subscriptions
//! with replay ([`subscription`]), a connection's bounded outbound queue
//! ([`frame_queue`]), reading missed timeline events back for the multi-node bus
//! ([`gap_fill`]), and re-reading node-local copies of shared state when another node
//! changed it ([`reload`]).

pub mod event;
pub mod frame;
pub mod frame_queue;
pub(crate) mod gap_fill;
pub mod publish;
pub(crate) mod reload;
pub mod subscription;
