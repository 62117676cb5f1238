//! Typed routing for all ten events, the catch-all, unknown events and removal.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicUsize, Ordering},
};

use kick_dispatch::{Dispatcher, ListenerResult, events};
use kick_models::EventType;

use crate::support::{chat, official, unknown, unparsed_chat};

#[tokio::test]
async fn each_event_reaches_only_its_typed_listener_with_the_typed_payload() {
    let bus = Dispatcher::new();
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    macro_rules! record {
        ($marker:ident, $payload:ident => $detail:expr) => {{
            let seen = Arc::clone(&seen);
            bus.listen(events::$marker, move |$payload| {
                seen.lock()
                    .unwrap()
                    .push(format!("{} {}", stringify!($marker), $detail));
            });
        }};
    }
    record!(ChatMessageSent, e => e.sender.username);
    record!(ChannelFollowed, e => e.follower.username);
    record!(ChannelSubscriptionRenewal, e => e.duration);
    record!(ChannelSubscriptionNew, e => e.duration);
    record!(ChannelSubscriptionGifts, e => e.giftees.len());
    record!(ChannelRewardRedemptionUpdated, e => e.reward.title);
    record!(LivestreamStatusUpdated, e => e.is_live);
    record!(LivestreamMetadataUpdated, e => e.metadata.category.name);
    record!(ModerationBanned, e => e.banned_user.username);
    record!(KicksGifted, e => e.gift.amount);

    for delivery in official() {
        let report = bus.dispatch(delivery).await.unwrap();
        assert_eq!(report.outcomes.len(), 1, "{}", report.event_type);
        assert!(report.all_ok());
    }
    assert_eq!(
        *seen.lock().unwrap(),
        [
            "ChatMessageSent sender_name",
            "ChannelFollowed follower_name",
            "ChannelSubscriptionRenewal 3",
            "ChannelSubscriptionNew 1",
            "ChannelSubscriptionGifts 1",
            "ChannelRewardRedemptionUpdated Uban Request",
            "LivestreamStatusUpdated true",
            "LivestreamMetadataUpdated Category name",
            "ModerationBanned banned_user_name",
            "KicksGifted 500",
        ]
    );
}

#[tokio::test]
async fn the_catch_all_gets_everything_including_unknown_and_unparsed() {
    let bus = Dispatcher::new();
    let types: Arc<Mutex<Vec<EventType>>> = Arc::default();
    let recorded = Arc::clone(&types);
    bus.listen(events::Any, move |delivery| {
        recorded
            .lock()
            .unwrap()
            .push(delivery.meta().event_type.clone());
    });
    let typed_calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&typed_calls);
    bus.listen(events::ChatMessageSent, move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    });

    for delivery in official() {
        bus.dispatch(delivery).await.unwrap();
    }
    let report = bus.dispatch(unknown()).await.unwrap();
    assert_eq!(
        report.outcomes.len(),
        1,
        "only the catch-all takes an unknown event"
    );
    let report = bus.dispatch(unparsed_chat()).await.unwrap();
    assert_eq!(
        report.outcomes.len(),
        1,
        "a chat body that did not parse reaches only the catch-all"
    );

    let types = types.lock().unwrap();
    assert_eq!(types.len(), 12);
    assert_eq!(types[10], EventType::from("channel.raid.started"));
    assert_eq!(typed_calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn listeners_see_the_delivery_metadata() {
    let bus = Dispatcher::new();
    let ids: Arc<Mutex<Vec<String>>> = Arc::default();
    let recorded = Arc::clone(&ids);
    bus.listen_async(events::ChatMessageSent, move |chat| {
        let recorded = Arc::clone(&recorded);
        async move {
            recorded.lock().unwrap().push(format!(
                "{} v{} {}",
                chat.meta().message_id,
                chat.meta().version,
                chat.content
            ));
        }
    });
    bus.dispatch(chat()).await.unwrap();
    assert_eq!(
        ids.lock().unwrap()[0],
        "01Jchat.message.sent v1 Hello [emote:4148074:HYPERCLAP] [emote:4148074:HYPERCLAP] [emote:37226:KEKW]"
    );
}

#[tokio::test]
async fn a_removed_listener_is_not_called() {
    let bus = Dispatcher::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let id = bus.listen(events::ChatMessageSent, move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    let other = bus.listen(events::Any, |_| ());
    bus.dispatch(chat()).await.unwrap();
    assert!(bus.remove(id));
    assert!(!bus.remove(id), "removing twice reports false");
    let report = bus.dispatch(chat()).await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(report.outcomes.len(), 1);
    assert_eq!(report.outcomes[0].listener, other);
    assert_eq!(bus.listener_count(), 1);
    assert_eq!(report.outcomes[0].result, ListenerResult::Ok);
}
