//! The one table of Kick's events. [`crate::EventType`], [`crate::KickEvent`] (its variants,
//! parsing, type and broadcaster) and kick-dispatch's listener markers are all generated from
//! it, so a new Kick event is one entry here, its payload type in `event/`, and its renderers.

/// Calls `$callback!` with the table of Kick's events, one entry each:
///
/// ```text
/// Variant, "kick.event.name", "supported version", PayloadType, "what it is";
/// ```
///
/// The payload type is a path in this crate's `event` module, and every payload has a
/// `broadcaster: User`. Other crates generate their own items from the same table:
///
/// ```
/// macro_rules! names {
///     ($($variant:ident, $name:literal, $version:literal, $payload:ty, $what:literal;)*) => {
///         const NAMES: &[&str] = &[$($name),*];
///     };
/// }
/// kick_models::for_each_kick_event!(names);
/// assert_eq!(NAMES.len(), kick_models::EventType::KNOWN.len());
/// assert_eq!(NAMES[0], "chat.message.sent");
/// ```
#[macro_export]
macro_rules! for_each_kick_event {
    ($callback:ident) => {
        $callback! {
            ChatMessageSent, "chat.message.sent", "1", $crate::event::ChatMessage,
                "a chat message";
            ChannelFollowed, "channel.followed", "1", $crate::event::ChannelFollow,
                "a new follower";
            ChannelSubscriptionRenewal, "channel.subscription.renewal", "1",
                $crate::event::Subscription, "a subscription renewed";
            ChannelSubscriptionNew, "channel.subscription.new", "1",
                $crate::event::Subscription, "a first subscription";
            ChannelSubscriptionGifts, "channel.subscription.gifts", "1",
                $crate::event::SubscriptionGifts, "gifted subscriptions";
            ChannelRewardRedemptionUpdated, "channel.reward.redemption.updated", "1",
                $crate::event::RewardRedemption,
                "a channel-points reward redeemed, accepted or rejected";
            LivestreamStatusUpdated, "livestream.status.updated", "1",
                $crate::event::LivestreamStatus, "the stream went live or ended";
            LivestreamMetadataUpdated, "livestream.metadata.updated", "1",
                $crate::event::LivestreamMetadata,
                "title, language, mature flag or category changed";
            ModerationBanned, "moderation.banned", "1", $crate::event::Ban,
                "a user was banned or timed out";
            KicksGifted, "kicks.gifted", "1", $crate::event::KicksGifted, "a user gifted KICKs";
        }
    };
}
