//! A Discord output against a stand-in with Discord's real limits: a quiet chat keeps one
//! message per chat message; a busy chat and a raid are coalesced, in Kick's order, with other
//! events never merged or reordered; a chat faster than Discord stays within `max_lag_secs`,
//! the lines it skips recorded as skipped.

use std::time::{Duration, Instant};

use relay_tests::{DiscordStandIn, Posted, TestRelay};
use serde_json::Value;

use crate::signed_delivery::official_payloads;

fn discord_output(url: &str, extra: &str) -> String {
    format!("[[output]]\nname = \"discord\"\ntype = \"discord\"\nurl = \"{url}\"\n{extra}")
}

/// A chat message from `sender` saying `text`, with its own chat message id.
fn chat(n: usize, sender: &str, text: &str) -> Vec<u8> {
    let mut body: Value = serde_json::from_slice(&official_payloads()[0].1).unwrap();
    body["message_id"] = format!("00000000-0000-4000-8000-{n:012}").into();
    body["content"] = text.into();
    body["emotes"] = Value::Null;
    body["sender"]["username"] = sender.into();
    serde_json::to_vec(&body).unwrap()
}

fn follow(n: usize) -> Vec<u8> {
    let mut body: Value = serde_json::from_slice(&official_payloads()[1].1).unwrap();
    body["follower"]["username"] = format!("follower{n}").into();
    serde_json::to_vec(&body).unwrap()
}

async fn post_chat(relay: &TestRelay, n: usize, sender: &str, text: &str) {
    let id = format!("01JDISCORD{n:016}");
    assert_eq!(
        relay
            .post(&id, "chat.message.sent", &chat(n, sender, text))
            .await
            .1,
        "accepted"
    );
}

async fn post_follow(relay: &TestRelay, n: usize) {
    let id = format!("01JFOLLOW{n:017}");
    assert_eq!(
        relay.post(&id, "channel.followed", &follow(n)).await.1,
        "accepted"
    );
}

/// Every line of every posted message, in order; a chat message posted on its own (under
/// the sender's name) written as the line it would have been in a combined message.
fn lines(posted: &[Posted]) -> Vec<String> {
    posted
        .iter()
        .flat_map(|p| {
            match p
                .username
                .as_deref()
                .and_then(|u| u.strip_suffix(" @ Kick"))
            {
                Some(sender) => vec![format!("**{sender}**: {}", p.content)],
                None => p.content.lines().map(str::to_owned).collect(),
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_chat_keeps_one_message_per_chat_message() {
    let discord = DiscordStandIn::start().await;
    let mut relay = TestRelay::start(&discord_output(&discord.url(), "")).await;
    for n in 0..3 {
        post_chat(&relay, n, &format!("viewer{n}"), &format!("hello {n}")).await;
        discord
            .wait_until(Duration::from_secs(10), |p| p.len() > n)
            .await;
    }
    let posted = discord.posted();
    assert_eq!(posted.len(), 3, "{posted:?}");
    for (n, message) in posted.iter().enumerate() {
        assert_eq!(message.content, format!("hello {n}"));
        assert_eq!(
            message.username.as_deref(),
            Some(&*format!("viewer{n} @ Kick"))
        );
        assert_eq!(message.allowed_mentions, serde_json::json!({ "parse": [] }));
    }
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_chat_and_a_raid_are_coalesced_in_order_within_discords_limits() {
    let discord = DiscordStandIn::start().await;
    let mut relay = TestRelay::start(&discord_output(&discord.url(), "")).await;
    let started = Instant::now();
    let mut expected = Vec::new();
    // 10 chat messages a second for 4 s, a follow every second, then a raid of 300 at once.
    let mut n = 0;
    for second in 0..4 {
        for _ in 0..10 {
            post_chat(
                &relay,
                n,
                &format!("v{n}"),
                &format!("message number {n} @everyone"),
            )
            .await;
            expected.push(format!("**v{n}**: message number {n} @\u{200B}everyone"));
            n += 1;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        post_follow(&relay, second).await;
        expected.push(format!("follower{second} just followed!"));
    }
    // The raid: 300 messages back to back.
    for i in 0..300 {
        post_chat(&relay, n + i, &format!("raider{}", n + i), "hype").await;
    }
    let total_chat = n + 300;

    let posted = discord
        .wait_until(Duration::from_secs(90), |p| {
            lines(p).iter().filter(|l| l.starts_with("**")).count() >= total_chat
        })
        .await;
    let got = lines(&posted);
    let chat_lines = got.iter().filter(|l| l.starts_with("**")).count();
    assert_eq!(chat_lines, total_chat, "every chat message reached Discord");
    // The steady part and the follows in Kick's order, the follows as messages of their own.
    let steady: Vec<&String> = got.iter().take(expected.len()).collect();
    assert_eq!(steady, expected.iter().collect::<Vec<_>>());
    for message in posted
        .iter()
        .filter(|p| p.content.contains("just followed"))
    {
        assert_eq!(
            message.content.lines().count(),
            1,
            "never merged: {message:?}"
        );
    }
    assert!(
        posted.len() < total_chat / 5,
        "{} messages for {total_chat} chat messages: not coalesced",
        posted.len()
    );
    assert!(posted.iter().all(|p| p.content.chars().count() <= 2000));
    let counts = discord.counts();
    assert_eq!(counts.bad_requests, 0, "{counts:?}");
    assert!(
        counts.rate_limited * 50 <= counts.requests,
        "429s over 2 % of requests: {counts:?}"
    );
    assert!(
        started.elapsed() < Duration::from_mins(1),
        "took {:?}",
        started.elapsed()
    );
    let skipped = relay.metrics().await;
    assert!(!skipped.contains("status=\"skipped\""), "{skipped}");
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_faster_than_discord_stays_within_max_lag_and_records_what_it_skipped() {
    let discord = DiscordStandIn::start().await;
    let mut relay = TestRelay::start(&discord_output(&discord.url(), "max_lag_secs = 3\n")).await;
    let long = "x".repeat(190);
    let mut sent_at = Vec::new();
    let mut n = 0;
    // ~40 chat messages of ~200 characters a second for 8 s (Discord carries ~9 a message and
    // a message every 2 s), with a follow at 2 s and at 6 s.
    let start = Instant::now();
    for second in 0..8 {
        for _ in 0..40 {
            post_chat(&relay, n, &format!("c{n}"), &format!("{n} {long}")).await;
            sent_at.push(Instant::now());
            n += 1;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if second % 4 == 2 {
            post_follow(&relay, second).await;
        }
    }
    let total = n;
    // Everything settles: every chat row delivered or skipped.
    let mut settled = false;
    for _ in 0..600 {
        let metrics = relay.metrics().await;
        let delivered = relay_tests::metric(
            &metrics,
            "kick_relay_outbox_rows{output=\"discord\",status=\"delivered\"}",
        );
        let skipped = relay_tests::metric(
            &metrics,
            "kick_relay_outbox_rows{output=\"discord\",status=\"skipped\"}",
        );
        if delivered + skipped == u64::try_from(total + 2).unwrap() {
            assert!(skipped > 0, "a chat this fast must skip: {metrics}");
            settled = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(settled, "{}", relay.metrics().await);
    // The last "skipped" line goes out once the queue is empty, paced like any message.
    let posted = discord
        .wait_until(Duration::from_secs(30), |p| {
            let got = lines(p);
            announced_in(&got) + chat_numbers(&got).len() >= total
        })
        .await;
    let got = lines(&posted);
    // Every follow delivered; a "skipped" line says how many chat lines were dropped.
    for second in [2, 6] {
        assert!(
            got.contains(&format!("follower{second} just followed!")),
            "follow {second}"
        );
    }
    let announced = announced_in(&got);
    let delivered_chat = chat_numbers(&got);
    assert!(announced > 0);
    assert_eq!(
        announced + delivered_chat.len(),
        total,
        "every chat message delivered or announced as skipped"
    );
    // Delivered lines stay in order and never lag more than max_lag_secs + 10 s.
    assert!(
        delivered_chat.windows(2).all(|w| w[0] < w[1]),
        "{delivered_chat:?}"
    );
    for message in &posted {
        for line in message.content.lines() {
            if let Some(n) = line
                .strip_prefix("**c")
                .and_then(|l| l.split('*').next()?.parse::<usize>().ok())
            {
                let lag = message.at.duration_since(sent_at[n]);
                assert!(lag <= Duration::from_secs(13), "line {n} lagged {lag:?}");
            }
        }
    }
    let counts = discord.counts();
    assert_eq!(counts.bad_requests, 0, "{counts:?}");
    assert!(start.elapsed() < Duration::from_mins(1));
    relay.stop().await;
}

/// The skipped counts the "… N chat messages skipped" lines announce, added up.
fn announced_in(lines: &[String]) -> usize {
    lines
        .iter()
        .filter_map(|l| l.strip_prefix("… "))
        .filter_map(|l| l.split(' ').next()?.parse::<usize>().ok())
        .sum()
}

/// The numbers of the delivered `**cN**: …` chat lines, in order.
fn chat_numbers(lines: &[String]) -> Vec<usize> {
    lines
        .iter()
        .filter_map(|l| l.strip_prefix("**c"))
        .filter_map(|l| l.split('*').next()?.parse().ok())
        .collect()
}
