//! What a listener receives.

use std::{fmt, marker::PhantomData, sync::Arc};

use kick_models::{Delivery, DeliveryMeta};

use crate::Event;

/// One event as a listener sees it: the typed payload and the delivery's metadata. Cheap to
/// clone (one `Arc`), so async listeners can move it into their future.
pub struct Envelope<E: Event> {
    delivery: Arc<Delivery>,
    _event: PhantomData<fn() -> E>,
}

impl<E: Event> Envelope<E> {
    /// An envelope for `delivery`, when it carries `E`.
    pub(crate) fn new(delivery: Arc<Delivery>) -> Option<Self> {
        E::extract(&delivery)?;
        Some(Self {
            delivery,
            _event: PhantomData,
        })
    }

    /// The typed payload (for [`crate::events::Any`], the whole delivery).
    pub fn payload(&self) -> &E::Payload {
        match E::extract(&self.delivery) {
            Some(payload) => payload,
            // `new` only builds envelopes whose delivery extracts, and deliveries are immutable.
            None => unreachable!("an Envelope always holds a delivery of its event"),
        }
    }

    /// Message id, subscription id, timestamp, type and version of the delivery.
    pub fn meta(&self) -> &DeliveryMeta {
        &self.delivery.headers.meta
    }

    /// The whole delivery, raw body included.
    pub fn delivery(&self) -> &Arc<Delivery> {
        &self.delivery
    }
}

impl<E: Event> Clone for Envelope<E> {
    fn clone(&self) -> Self {
        Self {
            delivery: Arc::clone(&self.delivery),
            _event: PhantomData,
        }
    }
}

impl<E: Event> std::ops::Deref for Envelope<E> {
    type Target = E::Payload;

    fn deref(&self) -> &E::Payload {
        self.payload()
    }
}

impl<E: Event> fmt::Debug for Envelope<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Envelope")
            .field("meta", self.meta())
            .finish_non_exhaustive()
    }
}
