//! Marker types naming what a listener receives: one per Kick event, and [`Any`] for all.
//!
//! `dispatcher.listen(events::ChatMessageSent, |chat| …)` gives the listener a
//! [`ChatMessage`](kick_models::event::ChatMessage), not a JSON value.

use kick_models::{Delivery, EventType, KickEvent, event};

/// What a listener can subscribe to: a Kick event type with its typed payload, or everything.
pub trait Event: Copy + Send + Sync + 'static {
    /// What the listener reads.
    type Payload: Send + Sync + 'static;

    /// The event type this selects; `None` for [`Any`].
    fn event_type(self) -> Option<EventType>;

    /// The payload inside `delivery`, when it is this event.
    fn extract(delivery: &Delivery) -> Option<&Self::Payload>;
}

/// Every delivery: the ten known events, unknown types and bodies that did not parse. The
/// payload is the whole [`Delivery`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Any;

impl Event for Any {
    type Payload = Delivery;

    fn event_type(self) -> Option<EventType> {
        None
    }

    fn extract(delivery: &Delivery) -> Option<&Delivery> {
        Some(delivery)
    }
}

macro_rules! kick_events {
    ($($(#[$doc:meta])* $marker:ident => $variant:ident($payload:ty);)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default)]
        pub struct $marker;

        impl Event for $marker {
            type Payload = $payload;

            fn event_type(self) -> Option<EventType> {
                Some(EventType::$variant)
            }

            fn extract(delivery: &Delivery) -> Option<&$payload> {
                match delivery.event() {
                    Some(KickEvent::$variant(payload)) => Some(payload),
                    _ => None,
                }
            }
        }
    )*};
}

kick_events! {
    /// `chat.message.sent`.
    ChatMessageSent => ChatMessageSent(event::ChatMessage);
    /// `channel.followed`.
    ChannelFollowed => ChannelFollowed(event::ChannelFollow);
    /// `channel.subscription.renewal`.
    ChannelSubscriptionRenewal => ChannelSubscriptionRenewal(event::Subscription);
    /// `channel.subscription.new`.
    ChannelSubscriptionNew => ChannelSubscriptionNew(event::Subscription);
    /// `channel.subscription.gifts`.
    ChannelSubscriptionGifts => ChannelSubscriptionGifts(event::SubscriptionGifts);
    /// `channel.reward.redemption.updated`.
    ChannelRewardRedemptionUpdated => ChannelRewardRedemptionUpdated(event::RewardRedemption);
    /// `livestream.status.updated`.
    LivestreamStatusUpdated => LivestreamStatusUpdated(event::LivestreamStatus);
    /// `livestream.metadata.updated`.
    LivestreamMetadataUpdated => LivestreamMetadataUpdated(event::LivestreamMetadata);
    /// `moderation.banned`.
    ModerationBanned => ModerationBanned(event::Ban);
    /// `kicks.gifted`.
    KicksGifted => KicksGifted(event::KicksGifted);
}
