//! The REST endpoints, grouped by area.

mod channels;
mod chat;
mod lists;
mod rewards;
mod subscriptions;

pub use self::lists::{CategoryQuery, LivestreamQuery, RedemptionQuery};
