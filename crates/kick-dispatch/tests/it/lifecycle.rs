//! Background publishing and shutdown with a deadline.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use kick_dispatch::{DispatchError, Dispatcher, ShutdownReport, events};

use crate::support::chat;

#[tokio::test(start_paused = true)]
async fn shutdown_waits_for_published_work_that_finishes_in_time() {
    let bus = Dispatcher::new();
    let done = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&done);
    bus.listen_async(events::ChatMessageSent, move |_| {
        let counter = Arc::clone(&counter);
        async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    for _ in 0..3 {
        bus.publish(chat()).unwrap();
    }
    let report = bus.shutdown(Duration::from_secs(5)).await;
    assert_eq!(
        report,
        ShutdownReport {
            drained: true,
            cancelled: 0
        }
    );
    assert_eq!(
        done.load(Ordering::SeqCst),
        3,
        "every published event was handled before shutdown returned"
    );
}

#[tokio::test(start_paused = true)]
async fn shutdown_cancels_what_outlives_the_deadline_and_says_so() {
    let bus = Dispatcher::new();
    bus.listen_async(events::ChatMessageSent, |_| std::future::pending::<()>());
    bus.listen_async(events::ChatMessageSent, |_| async {});
    bus.publish(chat()).unwrap();
    bus.publish(chat()).unwrap();
    tokio::task::yield_now().await;
    let report = bus.shutdown(Duration::from_secs(1)).await;
    assert_eq!(
        report,
        ShutdownReport {
            drained: false,
            cancelled: 2
        }
    );
}

#[tokio::test]
async fn nothing_is_accepted_after_shutdown() {
    let bus = Dispatcher::new();
    let report = bus.shutdown(Duration::from_secs(1)).await;
    assert!(report.drained);
    assert_eq!(bus.publish(chat()), Err(DispatchError::ShutDown));
    assert_eq!(
        bus.dispatch(chat()).await.unwrap_err(),
        DispatchError::ShutDown
    );
}
