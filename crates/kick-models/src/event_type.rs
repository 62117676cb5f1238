//! The open set of Kick event type names.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A `Kick-Event-Type` value. Known names map to variants; any other name is kept in
/// [`EventType::Unknown`] and written back unchanged, so new Kick events are data, not errors.
///
/// ```
/// use kick_models::EventType;
///
/// assert_eq!(EventType::from("chat.message.sent"), EventType::ChatMessageSent);
/// let new = EventType::from("channel.raid.started");
/// assert_eq!(new, EventType::Unknown("channel.raid.started".into()));
/// assert_eq!(new.as_str(), "channel.raid.started");
/// ```
#[derive(Clone, Debug, Deserialize, Eq, Hash, Ord, PartialEq, PartialOrd, Serialize)]
#[non_exhaustive]
#[serde(from = "String", into = "String")]
pub enum EventType {
    /// `chat.message.sent`: a chat message.
    ChatMessageSent,
    /// `channel.followed`: a new follower.
    ChannelFollowed,
    /// `channel.subscription.renewal`: a subscription renewed.
    ChannelSubscriptionRenewal,
    /// `channel.subscription.new`: a first subscription.
    ChannelSubscriptionNew,
    /// `channel.subscription.gifts`: gifted subscriptions.
    ChannelSubscriptionGifts,
    /// `channel.reward.redemption.updated`: a channel-points reward redeemed, accepted or rejected.
    ChannelRewardRedemptionUpdated,
    /// `livestream.status.updated`: the stream went live or ended.
    LivestreamStatusUpdated,
    /// `livestream.metadata.updated`: title, language, mature flag or category changed.
    LivestreamMetadataUpdated,
    /// `moderation.banned`: a user was banned or timed out.
    ModerationBanned,
    /// `kicks.gifted`: a user gifted KICKs.
    KicksGifted,
    /// Any other name, kept verbatim.
    Unknown(String),
}

impl EventType {
    /// The ten event types Kick documents, in the docs' order.
    pub const KNOWN: [Self; 10] = [
        Self::ChatMessageSent,
        Self::ChannelFollowed,
        Self::ChannelSubscriptionRenewal,
        Self::ChannelSubscriptionNew,
        Self::ChannelSubscriptionGifts,
        Self::ChannelRewardRedemptionUpdated,
        Self::LivestreamStatusUpdated,
        Self::LivestreamMetadataUpdated,
        Self::ModerationBanned,
        Self::KicksGifted,
    ];

    /// The name as Kick writes it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::ChatMessageSent => "chat.message.sent",
            Self::ChannelFollowed => "channel.followed",
            Self::ChannelSubscriptionRenewal => "channel.subscription.renewal",
            Self::ChannelSubscriptionNew => "channel.subscription.new",
            Self::ChannelSubscriptionGifts => "channel.subscription.gifts",
            Self::ChannelRewardRedemptionUpdated => "channel.reward.redemption.updated",
            Self::LivestreamStatusUpdated => "livestream.status.updated",
            Self::LivestreamMetadataUpdated => "livestream.metadata.updated",
            Self::ModerationBanned => "moderation.banned",
            Self::KicksGifted => "kicks.gifted",
            Self::Unknown(name) => name,
        }
    }

    /// `true` for [`EventType::Unknown`].
    pub const fn is_unknown(&self) -> bool {
        matches!(self, Self::Unknown(_))
    }

    /// The newest payload version this crate parses into a typed event (`"1"` for all ten
    /// known types), or `None` for an unknown type.
    pub const fn supported_version(&self) -> Option<&'static str> {
        if self.is_unknown() { None } else { Some("1") }
    }
}

impl From<&str> for EventType {
    fn from(name: &str) -> Self {
        match name {
            "chat.message.sent" => Self::ChatMessageSent,
            "channel.followed" => Self::ChannelFollowed,
            "channel.subscription.renewal" => Self::ChannelSubscriptionRenewal,
            "channel.subscription.new" => Self::ChannelSubscriptionNew,
            "channel.subscription.gifts" => Self::ChannelSubscriptionGifts,
            "channel.reward.redemption.updated" => Self::ChannelRewardRedemptionUpdated,
            "livestream.status.updated" => Self::LivestreamStatusUpdated,
            "livestream.metadata.updated" => Self::LivestreamMetadataUpdated,
            "moderation.banned" => Self::ModerationBanned,
            "kicks.gifted" => Self::KicksGifted,
            other => Self::Unknown(other.to_owned()),
        }
    }
}

impl From<String> for EventType {
    fn from(name: String) -> Self {
        match Self::from(name.as_str()) {
            Self::Unknown(_) => Self::Unknown(name),
            known => known,
        }
    }
}

impl From<EventType> for String {
    fn from(event_type: EventType) -> Self {
        match event_type {
            EventType::Unknown(name) => name,
            known => known.as_str().to_owned(),
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
