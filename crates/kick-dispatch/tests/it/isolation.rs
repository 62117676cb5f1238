//! A failing, panicking or overrunning listener never affects the others or the caller; slow
//! listeners do not hold fast ones back.

use std::{
    sync::{Arc, Barrier},
    time::Duration,
};

use kick_dispatch::{Dispatcher, ListenerOptions, ListenerResult, events};
use tokio::sync::Notify;

use crate::support::chat;

/// An async listener that panics after its first await point.
async fn explode() {
    tokio::task::yield_now().await;
    panic!("async boom");
}

#[tokio::test]
async fn errors_and_panics_are_reported_and_contained() {
    let bus = Dispatcher::new();
    bus.listen_with(
        events::ChatMessageSent,
        ListenerOptions::named("fails"),
        |_| Err::<(), _>("discord said no"),
    );
    bus.listen_with(
        events::ChatMessageSent,
        ListenerOptions::named("panics"),
        |_| -> () { panic!("boom") },
    );
    bus.listen_async_with(
        events::ChatMessageSent,
        ListenerOptions::named("async-panics"),
        |_| explode(),
    );
    bus.listen_async_with(
        events::ChatMessageSent,
        ListenerOptions::named("async-fails"),
        |_| async { Err::<(), _>(std::fmt::Error) },
    );
    bus.listen_with(
        events::ChatMessageSent,
        ListenerOptions::named("fine"),
        |_| (),
    );

    let report = bus.dispatch(chat()).await.unwrap();
    let results: Vec<(&str, &ListenerResult)> = report
        .outcomes
        .iter()
        .map(|o| (o.name.as_str(), &o.result))
        .collect();
    assert_eq!(
        results,
        [
            ("fails", &ListenerResult::Failed("discord said no".into())),
            ("panics", &ListenerResult::Panicked("boom".into())),
            (
                "async-panics",
                &ListenerResult::Panicked("async boom".into())
            ),
            (
                "async-fails",
                &ListenerResult::Failed("an error occurred when formatting an argument".into())
            ),
            ("fine", &ListenerResult::Ok),
        ]
    );
    assert_eq!(report.failures().count(), 4);
    // The dispatcher still works afterwards.
    assert_eq!(bus.dispatch(chat()).await.unwrap().outcomes.len(), 5);
}

#[tokio::test(start_paused = true)]
async fn an_async_listener_past_its_limit_is_stopped_and_reported() {
    let bus = Dispatcher::with_timeout(Duration::from_secs(5));
    bus.listen_async_with(
        events::ChatMessageSent,
        ListenerOptions::named("stuck"),
        |_| std::future::pending::<()>(),
    );
    bus.listen_async_with(
        events::ChatMessageSent,
        ListenerOptions::named("slow").timeout(Duration::from_secs(1)),
        |_| tokio::time::sleep(Duration::from_secs(2)),
    );
    bus.listen_async(events::ChatMessageSent, |_| async {});
    let report = bus.dispatch(chat()).await.unwrap();
    assert_eq!(
        report.outcomes[0].result,
        ListenerResult::TimedOut(Duration::from_secs(5))
    );
    assert_eq!(
        report.outcomes[1].result,
        ListenerResult::TimedOut(Duration::from_secs(1))
    );
    assert_eq!(report.outcomes[2].result, ListenerResult::Ok);
}

#[tokio::test]
async fn a_blocking_listener_past_its_limit_is_abandoned_not_waited_for() {
    let bus = Dispatcher::new();
    let release = Arc::new(Barrier::new(2));
    let held = Arc::clone(&release);
    bus.listen_with(
        events::ChatMessageSent,
        ListenerOptions::named("blocks").timeout(Duration::from_millis(50)),
        move |_| {
            held.wait();
        },
    );
    let report = bus.dispatch(chat()).await.unwrap();
    assert_eq!(
        report.outcomes[0].result,
        ListenerResult::TimedOut(Duration::from_millis(50))
    );
    release.wait(); // let the abandoned thread finish
}

#[tokio::test]
async fn async_listeners_of_one_event_run_concurrently() {
    // The first listener can only finish once the second has run: sequential execution would
    // time out instead.
    let bus = Dispatcher::new();
    let signal = Arc::new(Notify::new());
    let waits = Arc::clone(&signal);
    bus.listen_async_with(
        events::ChatMessageSent,
        ListenerOptions::named("slow").timeout(Duration::from_secs(10)),
        move |_| {
            let waits = Arc::clone(&waits);
            async move { waits.notified().await }
        },
    );
    let fires = Arc::clone(&signal);
    bus.listen_async(events::ChatMessageSent, move |_| {
        let fires = Arc::clone(&fires);
        async move { fires.notify_one() }
    });
    let report = bus.dispatch(chat()).await.unwrap();
    assert!(report.all_ok(), "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_listeners_of_one_event_run_concurrently() {
    let bus = Dispatcher::new();
    let both = Arc::new(Barrier::new(2));
    for name in ["a", "b"] {
        let both = Arc::clone(&both);
        bus.listen_with(
            events::ChatMessageSent,
            ListenerOptions::named(name).timeout(Duration::from_secs(10)),
            move |_| {
                both.wait();
            },
        );
    }
    let report = bus.dispatch(chat()).await.unwrap();
    assert!(report.all_ok(), "{report:?}");
}
