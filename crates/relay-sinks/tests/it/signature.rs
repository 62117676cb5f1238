//! Standard Webhooks signing.

use relay_sinks::WebhookSecret;

#[test]
fn the_specs_published_example() {
    // Standard Webhooks v1 spec / svix documentation example.
    let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    assert_eq!(
        secret.sign(
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            br#"{"test": 2432232314}"#
        ),
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    );
}

#[test]
fn bad_secrets_are_refused_without_echoing_them() {
    for (text, expected) in [
        ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "must start with whsec_"),
        ("whsec_!!!notbase64", "not standard Base64"),
        ("whsec_c2hvcnQ=", "5 bytes"),
    ] {
        let err = WebhookSecret::parse(text).unwrap_err().to_string();
        assert!(err.contains(expected), "{text}: {err}");
        assert!(!err.contains(text.trim_start_matches("whsec_")), "{err}");
    }
    let debug = format!(
        "{:?}",
        WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap()
    );
    assert!(!debug.contains("MfKQ"), "{debug}");
}
