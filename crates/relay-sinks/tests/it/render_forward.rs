//! Forward rendering: the original request, byte for byte.

use kick_models::header;
use relay_sinks::{EventFilter, ForwardSink, HttpOptions, Sink};

use crate::support::{delivery, official};

fn sink() -> ForwardSink {
    ForwardSink::new(
        "forward-test",
        "http://127.0.0.1:9/kick".parse().unwrap(),
        EventFilter::all(),
        HttpOptions::default(),
    )
    .unwrap()
}

#[test]
fn every_payload_is_passed_on_untouched() {
    let mut cases = official();
    cases.push((
        "unknown".into(),
        delivery("channel.raid.started", b" {\"x\": 1}\n"),
    ));
    cases.push((
        "not-json".into(),
        delivery("chat.message.sent", b"\xff\x00 not json"),
    ));
    for (stem, delivery) in cases {
        assert!(sink().wants(&delivery), "{stem}");
        let request = sink().render(&delivery).unwrap();
        assert_eq!(request.body, delivery.body.to_vec(), "{stem}");
        let meta = &delivery.headers.meta;
        let expected = [
            (header::MESSAGE_ID, meta.message_id.as_str()),
            (
                header::SUBSCRIPTION_ID,
                meta.subscription_id.as_deref().unwrap(),
            ),
            (header::SIGNATURE, delivery.headers.signature.as_str()),
            (header::MESSAGE_TIMESTAMP, meta.timestamp.as_str()),
            (header::EVENT_TYPE, meta.event_type.as_str()),
            (header::EVENT_VERSION, meta.version.as_str()),
        ];
        for (name, value) in expected {
            assert_eq!(request.header(name), Some(value), "{stem} {name}");
        }
    }
}
