//! The REST endpoints, grouped by area.

mod channels;
mod chat;
mod drops;
mod lists;
mod rewards;
mod subscriptions;

pub use self::{
    drops::DropClaimQuery,
    lists::{CategoryQuery, LivestreamQuery, RedemptionQuery},
};
