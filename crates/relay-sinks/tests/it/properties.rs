//! Property tests: any chat text renders within Discord's limits and cannot ping.

use proptest::prelude::*;
use relay_sinks::{
    DiscordSink, EventFilter, HttpOptions, Sink, escape_markdown, sanitize_username, truncate_chars,
};

use crate::support::chat;

/// Built once: building a sink creates an HTTP client, slower than rendering.
static SINK: std::sync::LazyLock<DiscordSink> = std::sync::LazyLock::new(|| {
    DiscordSink::new(
        "d",
        "http://127.0.0.1:9/x".parse().unwrap(),
        EventFilter::all(),
        HttpOptions::default(),
    )
    .unwrap()
});

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_chat_renders_safely(content in "(.|@everyone|@here|<@&[0-9]{1,4}>|\\[x\\]\\(http://y\\)|\\*|_|`){0,600}") {
        let sink = &*SINK;
        let delivery = chat(&content);
        if sink.wants(&delivery) {
            let body: serde_json::Value = serde_json::from_slice(&sink.render(&delivery).unwrap().body).unwrap();
            let text = body["content"].as_str().unwrap();
            prop_assert!(text.chars().count() <= 2000);
            prop_assert!(!text.trim().is_empty());
            prop_assert!(!text.contains("@everyone") && !text.contains("@here"));
            // Every `<` is escaped, so no `<@…>`, `<@&…>` or `<#…>` form survives.
            prop_assert!(!text.replace("\\<", "").contains('<'));
            prop_assert_eq!(&body["allowed_mentions"], &serde_json::json!({ "parse": [] }));
        } else {
            prop_assert!(content.trim().is_empty());
        }
    }

    #[test]
    fn truncation_respects_the_limit(text in ".{0,300}", limit in 1_usize..200) {
        let cut = truncate_chars(&escape_markdown(&text), limit);
        prop_assert!(cut.chars().count() <= limit);
    }

    #[test]
    fn usernames_follow_discords_rules(name in ".{0,200}") {
        if let Some(clean) = sanitize_username(&name) {
            prop_assert!((1..=80).contains(&clean.chars().count()));
            let lower = clean.to_ascii_lowercase();
            prop_assert!(!lower.contains("discord") && !lower.contains("clyde"));
            prop_assert!(!clean.contains('@') && !clean.contains('#') && !clean.contains(':'));
        }
    }
}
