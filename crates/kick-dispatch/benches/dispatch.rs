//! Dispatch overhead per event: one chat delivery to 1 and 10 no-op listeners, async and sync,
//! on a current-thread and a 2-worker runtime.
//!
//! `cargo bench -p kick-dispatch --bench dispatch`

#![allow(missing_docs, clippy::unwrap_used)]

use std::{path::Path, sync::Arc};

use criterion::{Criterion, criterion_group, criterion_main};
use kick_dispatch::{Dispatcher, events};
use kick_models::{Delivery, DeliveryMeta, EventType, Timestamp, WebhookHeaders};

fn chat_delivery() -> Arc<Delivery> {
    let body = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/kick/payloads/chat.message.sent.v1.json"),
    )
    .unwrap();
    let headers = WebhookHeaders {
        meta: DeliveryMeta {
            message_id: "01JMND5PS7XQ0V3F9E2B4C6D8A".into(),
            subscription_id: None,
            timestamp: Timestamp::parse("2025-02-21T23:23:36Z").unwrap(),
            event_type: EventType::ChatMessageSent,
            version: "1".into(),
        },
        signature: String::new(),
    };
    Arc::new(Delivery::parse(headers, body))
}

fn bench(c: &mut Criterion) {
    let multi = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let current = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    run(c, "dispatch/current_thread", &current);
    run(c, "dispatch/multi_thread", &multi);
}

/// Listener tasks on a current-thread runtime show the dispatcher's own cost; on the 2-worker
/// runtime the caller (criterion's thread) wakes workers, as a request handler would.
fn run(c: &mut Criterion, name: &str, runtime: &tokio::runtime::Runtime) {
    let delivery = chat_delivery();
    let mut group = c.benchmark_group(name);
    for listeners in [1, 10] {
        let bus = runtime.block_on(async { Dispatcher::new() });
        for _ in 0..listeners {
            bus.listen_async(events::ChatMessageSent, |_| async {});
        }
        group.bench_function(format!("async/{listeners}"), |b| {
            b.to_async(runtime)
                .iter(|| bus.dispatch(Arc::clone(&delivery)));
        });
        let bus = Dispatcher::new();
        for _ in 0..listeners {
            bus.listen(events::ChatMessageSent, |_| ());
        }
        group.bench_function(format!("sync/{listeners}"), |b| {
            b.to_async(runtime)
                .iter(|| bus.dispatch(Arc::clone(&delivery)));
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
