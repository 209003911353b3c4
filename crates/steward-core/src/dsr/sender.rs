//! One-time codes reach the registered contact through a `CodeSender` (N7.4):
//! the default writes to the outbox (`crate::outbox`).

pub use crate::outbox::{CodeMessage, CodeSender, OutboxSender};
