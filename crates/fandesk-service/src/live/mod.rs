//! What goes out to connections: the typed server events ([`event`]), their frames per
//! audience ([`frame`]), publishing them on the bus ([`publish`]), topic subscriptions
//! with replay ([`subscription`]), and a connection's bounded outbound queue
//! ([`frame_queue`]).

pub mod event;
pub mod frame;
pub mod frame_queue;
pub mod publish;
pub mod subscription;
