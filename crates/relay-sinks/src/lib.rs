#![doc = include_str!("../README.md")]

mod discord;
mod error;
mod filter;
mod forward;
mod http;
mod raw;
mod sink;

pub use self::{
    discord::{
        DISCORD_CHANNEL_LIMIT, DiscordLimits, DiscordSink, escape_markdown, sanitize_username,
        truncate_chars,
    },
    error::{ConfigError, RenderError},
    filter::{EventFilter, EventSelector},
    forward::ForwardSink,
    http::{HttpOptions, WebhookUrl},
    raw::{RawSink, WebhookSecret},
    sink::{RenderedRequest, SendOutcome, Sink, SinkKind},
};
