//! Marker types naming what a listener receives: one per Kick event, and [`Any`] for all.
//!
//! `dispatcher.listen(events::ChatMessageSent, |chat| …)` gives the listener a
//! [`ChatMessage`](kick_models::event::ChatMessage), not a JSON value.

use kick_models::{Delivery, EventType, KickEvent};

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

/// Generates one marker per entry of kick-models' event table.
macro_rules! kick_events {
    ($($variant:ident, $name:literal, $version:literal, $payload:ty, $what:literal;)*) => {$(
        #[doc = concat!("`", $name, "`: ", $what, ".")]
        #[derive(Clone, Copy, Debug, Default)]
        pub struct $variant;

        impl Event for $variant {
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

// One marker per Kick event, named as its `EventType` variant: kick-models' table.
kick_models::for_each_kick_event!(kick_events);
