#![doc = include_str!("../README.md")]

pub mod api;
mod chat;
mod delivery;
pub mod drops;
mod error;
pub mod event;
mod event_table;
mod event_type;
mod headers;
mod ids;
mod timestamp;
mod user;

pub use self::{
    chat::{ChatToken, ChatTokens, channel_url, emote_image_url},
    delivery::Delivery,
    error::{HeaderError, ParseError, ParseErrorKind},
    event::KickEvent,
    event_type::EventType,
    headers::{DeliveryMeta, WebhookHeaders, header},
    ids::{SubscriptionId, UserId},
    timestamp::{InvalidTimestamp, Timestamp},
    user::{Badge, Gifter, Identity, User},
};
