//! Each endpoint's method, path, query, auth header and body.

use kick_api::{CategoryQuery, LivestreamQuery, RedemptionQuery};
use kick_models::{
    EventType, UserId,
    api::{
        BanRequest, ChannelPatch, ChatSend, ChatSenderType, RewardCreate, RewardUpdate,
        SubscribeRequest, UnbanRequest,
    },
};
use serde_json::json;

use crate::fake::{FakeKick, answer, ok, token, tokens_and};

fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[tokio::test]
async fn public_key_needs_no_token() {
    let kick = FakeKick::start(|_, _| {
        ok(json!({ "public_key": "-----BEGIN PUBLIC KEY-----\nabc\n-----END PUBLIC KEY-----" }))
    })
    .await;
    let pem = kick.client().public_key().await.unwrap();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"));
    let seen = kick.seen();
    assert_eq!(
        (seen.len(), seen[0].path.as_str(), seen[0].auth.as_deref()),
        (1, "/public/v1/public-key", None)
    );
}

#[tokio::test]
async fn subscriptions_list_create_delete() {
    let kick = FakeKick::start(|seen, n| match (seen.method.as_str(), seen.path.as_str()) {
        (_, "/oauth/token") => token(n, 3600),
        ("GET", _) if seen.query.is_empty() => ok(json!([])),
        ("GET", _) => ok(json!([{ "id": "01SUB", "app_id": "01APP", "broadcaster_user_id": 123, "event": "chat.message.sent",
                                 "version": 1, "method": "webhook", "created_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-01T00:00:00Z" }])),
        ("POST", _) => ok(json!([
            { "name": "chat.message.sent", "version": 1, "subscription_id": "01NEW", "error": "" },
            { "name": "kicks.gifted", "version": 1, "subscription_id": "", "error": "event subscription limit reached" }
        ])),
        ("DELETE", _) => answer(204, ""),
        _ => answer(404, ""),
    })
    .await;
    let client = kick.client();
    let app = client.app();

    assert!(
        app.subscriptions(None).await.unwrap().is_empty(),
        "no subscriptions is an empty list"
    );
    let listed = app.subscriptions(Some(UserId(123))).await.unwrap();
    assert_eq!(
        (listed[0].id.as_str(), &listed[0].event),
        ("01SUB", &EventType::ChatMessageSent)
    );

    let results = app
        .subscribe(&SubscribeRequest::new(
            Some(UserId(123)),
            &[EventType::ChatMessageSent, EventType::KicksGifted],
        ))
        .await
        .unwrap();
    assert_eq!(results[0].subscription_id.as_deref(), Some("01NEW"));
    assert_eq!(results[0].error, None);
    assert_eq!(results[1].subscription_id, None);
    assert_eq!(
        results[1].error.as_deref(),
        Some("event subscription limit reached")
    );

    app.unsubscribe(&["01A".into(), "01B".into()])
        .await
        .unwrap();
    app.unsubscribe(&[]).await.unwrap();

    let calls = kick.seen_at("/public/v1/events/subscriptions");
    assert_eq!(calls.len(), 4, "an empty unsubscribe sends nothing");
    assert!(
        calls
            .iter()
            .all(|c| c.auth.as_deref() == Some("Bearer token-1"))
    );
    assert_eq!(calls[1].query, q(&[("broadcaster_user_id", "123")]));
    assert_eq!(calls[2].content_type.as_deref(), Some("application/json"));
    assert_eq!(
        calls[2].json(),
        json!({ "broadcaster_user_id": 123, "events": [{ "name": "chat.message.sent", "version": 1 }, { "name": "kicks.gifted", "version": 1 }], "method": "webhook" })
    );
    assert_eq!(
        (calls[3].method.as_str(), calls[3].query.clone()),
        ("DELETE", q(&[("id", "01A"), ("id", "01B")]))
    );
}

#[tokio::test]
async fn users_channels_moderation_kicks() {
    let kick = FakeKick::start(|seen, n| match seen.path.as_str() {
        "/oauth/token" => token(n, 3600),
        "/public/v1/users" => ok(json!([{ "user_id": 1, "name": "a", "email": "", "profile_picture": "" }])),
        "/public/v1/channels" if seen.method == "PATCH" => answer(204, ""),
        "/public/v1/channels" => ok(json!([{ "broadcaster_user_id": 1, "slug": "a", "stream_title": "t", "category": null,
                                             "stream": { "is_live": true, "viewer_count": 5, "key": "sk_live_secret",
                                                         "url": "rtmps://ingest.example:443/app" } }])),
        "/public/v1/moderation/bans" => ok(json!({})),
        "/public/v1/kicks/leaderboard" => ok(json!({ "lifetime": [{ "gifted_amount": 5, "rank": 1, "user_id": 9, "username": "z" }], "month": [], "week": [] })),
        _ => answer(404, ""),
    })
    .await;
    let client = kick.client();
    let app = client.app();
    assert_eq!(
        app.users(&[UserId(1), UserId(2)]).await.unwrap()[0].name,
        "a"
    );
    let channel = app.channels_by_ids(&[UserId(1)]).await.unwrap().remove(0);
    let stream = channel.stream.as_ref().unwrap();
    assert!(stream.is_live);
    assert_eq!(stream.key.as_deref(), Some("sk_live_secret"));
    assert_eq!(
        stream.url.as_deref(),
        Some("rtmps://ingest.example:443/app")
    );
    assert!(
        !format!("{stream:?}").contains("sk_live_secret"),
        "the key stays out of Debug"
    );
    app.channels_by_slugs(&["a", "b"]).await.unwrap();
    app.update_channel(&ChannelPatch {
        stream_title: Some("new".into()),
        ..ChannelPatch::default()
    })
    .await
    .unwrap();
    app.ban(&BanRequest {
        broadcaster_user_id: UserId(1),
        user_id: UserId(2),
        duration: Some(10),
        reason: Some("spam".into()),
    })
    .await
    .unwrap();
    app.unban(&UnbanRequest {
        broadcaster_user_id: UserId(1),
        user_id: UserId(2),
    })
    .await
    .unwrap();
    assert_eq!(
        app.kicks_leaderboard(Some(5)).await.unwrap().lifetime[0].username,
        "z"
    );

    assert_eq!(
        kick.seen_at("/public/v1/users")[0].query,
        q(&[("id", "1"), ("id", "2")])
    );
    let channels = kick.seen_at("/public/v1/channels");
    assert_eq!(channels[0].query, q(&[("broadcaster_user_id", "1")]));
    assert_eq!(channels[1].query, q(&[("slug", "a"), ("slug", "b")]));
    assert_eq!(
        (channels[2].method.as_str(), channels[2].json()),
        ("PATCH", json!({ "stream_title": "new" }))
    );
    let bans = kick.seen_at("/public/v1/moderation/bans");
    assert_eq!(
        (bans[0].method.as_str(), bans[0].json()),
        (
            "POST",
            json!({ "broadcaster_user_id": 1, "user_id": 2, "duration": 10, "reason": "spam" })
        )
    );
    assert_eq!(
        (bans[1].method.as_str(), bans[1].json()),
        ("DELETE", json!({ "broadcaster_user_id": 1, "user_id": 2 }))
    );
    assert_eq!(
        kick.seen_at("/public/v1/kicks/leaderboard")[0].query,
        q(&[("top", "5")])
    );
}

#[tokio::test]
async fn chat_send_and_delete() {
    let kick = FakeKick::start(|seen, n| match (seen.method.as_str(), seen.path.as_str()) {
        (_, "/oauth/token") => token(n, 3600),
        ("POST", "/public/v1/chat") => ok(json!({ "is_sent": true, "message_id": "m-1" })),
        ("DELETE", _) => answer(204, ""),
        _ => answer(404, ""),
    })
    .await;
    let client = kick.client();
    let sent = client
        .app()
        .send_chat(&ChatSend {
            sender: ChatSenderType::Bot,
            content: "hi".into(),
            broadcaster_user_id: None,
            reply_to_message_id: Some("p".into()),
        })
        .await
        .unwrap();
    assert!(sent.is_sent);
    client.app().delete_chat_message("a b/c").await.unwrap();
    assert_eq!(
        kick.seen_at("/public/v1/chat")[0].json(),
        json!({ "type": "bot", "content": "hi", "reply_to_message_id": "p" })
    );
    assert_eq!(
        kick.seen().last().unwrap().path,
        "/public/v1/chat/a%20b%2Fc"
    );
}

#[tokio::test]
async fn paginated_lists_follow_the_cursor() {
    let kick = FakeKick::start(|seen, n| {
        if seen.path == "/oauth/token" {
            return token(n, 3600);
        }
        let cursor = seen
            .query
            .iter()
            .find(|(k, _)| k == "cursor")
            .map(|(_, v)| v.as_str());
        let (items, next) = match cursor {
            None => (
                json!([{ "id": 1, "name": "a", "tags": null, "thumbnail": "" }]),
                json!("c2"),
            ),
            Some("c2") => (
                json!([{ "id": 2, "name": "b", "tags": ["x"], "thumbnail": "" }]),
                json!("c3"),
            ),
            _ => (
                json!([{ "id": 3, "name": "c", "thumbnail": "" }]),
                json!(""),
            ),
        };
        answer(
            200,
            json!({ "data": items, "message": "OK", "pagination": { "next_cursor": next } })
                .to_string(),
        )
    })
    .await;
    let client = kick.client();
    let mut query = CategoryQuery::default();
    query.limit = Some(1);
    query.names = vec!["a".into(), "b".into()];
    let all = client.app().categories(&query).all().await.unwrap();
    assert_eq!(all.iter().map(|c| c.id).collect::<Vec<_>>(), [1, 2, 3]);
    let calls = kick.seen_at("/public/v2/categories");
    assert_eq!(calls.len(), 3);
    assert_eq!(calls[0].query, q(&[("limit", "1"), ("name", "a,b")]));
    assert_eq!(
        calls[2].query,
        q(&[("limit", "1"), ("name", "a,b"), ("cursor", "c3")])
    );

    // A listing read one page, its cursor saved, and resumed later from it.
    let mut first = client.app().categories(&query);
    assert_eq!(first.cursor(), None, "nothing read yet");
    let page = first.next_page().await.unwrap().unwrap();
    assert_eq!(page[0].id, 1);
    let saved = first.cursor().unwrap().to_owned();
    assert_eq!(saved, "c2");
    let rest = client
        .app()
        .categories(&query)
        .resume_from(saved)
        .all()
        .await
        .unwrap();
    assert_eq!(rest.iter().map(|c| c.id).collect::<Vec<_>>(), [2, 3]);
    let mut done = client.app().categories(&query).resume_from("c3");
    assert_eq!(done.next_page().await.unwrap().unwrap()[0].id, 3);
    assert_eq!(done.cursor(), None, "the last page leaves no cursor");
    assert!(done.next_page().await.unwrap().is_none());

    let mut live = LivestreamQuery::default();
    live.limit = Some(2);
    live.category_ids = vec![15];
    live.language_codes = vec!["en".into()];
    let mut pages = client.app().livestreams(&live);
    // The fake answers categories' shape here too; only the request matters.
    let _ = pages.next_page().await;
    assert_eq!(
        kick.seen_at("/public/v2/livestreams")[0].query,
        q(&[
            ("limit", "2"),
            ("category_id", "15"),
            ("language_code", "en")
        ])
    );
}

#[tokio::test]
async fn rewards_and_redemptions() {
    let reward = json!({ "id": "01R", "title": "Hydrate", "description": "", "cost": 100, "background_color": "#00e701",
                         "is_enabled": true, "is_paused": false, "is_user_input_required": false, "should_redemptions_skip_request_queue": false });
    let kick = FakeKick::start(move |seen, n| match (seen.method.as_str(), seen.path.as_str()) {
        (_, "/oauth/token") => token(n, 3600),
        ("GET", "/public/v1/channels/rewards") => ok(json!([reward.clone()])),
        ("POST", "/public/v1/channels/rewards") | ("PATCH", _) => ok(reward.clone()),
        ("DELETE", _) => answer(204, ""),
        ("GET", "/public/v1/channels/rewards/redemptions") => answer(200, json!({ "data": [{
            "reward": { "id": "01R", "title": "Hydrate", "description": "", "cost": 100 },
            "redemptions": [{ "id": "01X", "redeemed_at": "2025-12-02T22:54:19.323Z", "redeemer": { "user_id": 5 }, "status": "pending", "user_input": "" }]
        }], "message": "OK" }).to_string()),
        ("POST", _) => ok(json!([{ "id": "01Y", "reason": "NOT_PENDING" }])),
        _ => answer(404, ""),
    })
    .await;
    let client = kick.client();
    let app = client.app();
    assert_eq!(app.rewards().await.unwrap()[0].title, "Hydrate");
    app.create_reward(&RewardCreate {
        title: "Hydrate".into(),
        cost: 100,
        description: None,
        background_color: None,
        is_enabled: None,
        is_user_input_required: None,
        should_redemptions_skip_request_queue: None,
    })
    .await
    .unwrap();
    app.update_reward(
        "01R",
        &RewardUpdate {
            is_paused: Some(true),
            ..RewardUpdate::default()
        },
    )
    .await
    .unwrap();
    app.delete_reward("01R").await.unwrap();
    let mut pending = RedemptionQuery::default();
    pending.status = Some(kick_models::event::RedemptionStatus::Pending);
    let groups = app.redemptions(&pending).all().await.unwrap();
    assert_eq!(groups[0].redemptions[0].id, "01X");
    assert_eq!(app.accept_redemptions(&["01X"]).await.unwrap().len(), 1);
    let failures = app.reject_redemptions(&["01X", "01Y"]).await.unwrap();
    assert_eq!(failures[0].reason, "NOT_PENDING");

    let seen = kick.seen();
    let paths: Vec<String> = seen
        .iter()
        .filter(|s| s.path != "/oauth/token")
        .map(|s| format!("{} {}", s.method, s.path))
        .collect();
    assert_eq!(
        paths,
        [
            "GET /public/v1/channels/rewards",
            "POST /public/v1/channels/rewards",
            "PATCH /public/v1/channels/rewards/01R",
            "DELETE /public/v1/channels/rewards/01R",
            "GET /public/v1/channels/rewards/redemptions",
            "POST /public/v1/channels/rewards/redemptions/accept",
            "POST /public/v1/channels/rewards/redemptions/reject",
        ]
    );
    let find = |p: &str| {
        seen.iter()
            .find(|s| s.path == p && s.method == "POST")
            .unwrap()
            .clone()
    };
    assert_eq!(
        find("/public/v1/channels/rewards").json(),
        json!({ "title": "Hydrate", "cost": 100 })
    );
    assert_eq!(
        find("/public/v1/channels/rewards/redemptions/reject").json(),
        json!({ "ids": ["01X", "01Y"] })
    );
    assert_eq!(
        seen.iter().find(|s| s.method == "PATCH").unwrap().json(),
        json!({ "is_paused": true })
    );
    assert_eq!(
        seen.iter()
            .find(|s| s.path == "/public/v1/channels/rewards/redemptions")
            .unwrap()
            .query,
        q(&[("status", "pending")])
    );
}

#[tokio::test]
async fn stats() {
    let kick = FakeKick::start(tokens_and(json!({ "total_count": 4321 }))).await;
    assert_eq!(
        kick.client()
            .app()
            .livestream_stats()
            .await
            .unwrap()
            .total_count,
        4321
    );
    let calls = kick.seen_at("/public/v1/livestreams/stats");
    assert_eq!((calls.len(), calls[0].method.as_str()), (1, "GET"));
}

#[tokio::test]
async fn drop_claims_page_and_update() {
    let kick = FakeKick::start(|seen, n| match (seen.method.as_str(), seen.path.as_str()) {
        (_, "/oauth/token") => token(n, 3600),
        ("GET", "/public/v1/drops/claims") => ok(json!({
            "claims": [{ "claim_id": "c1", "user_id": 9, "campaign_id": "camp", "reward_id": "r",
                         "external_id": "", "external_status": "initiated",
                         "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z" }],
            "cursor": "c1"
        })),
        ("PATCH", "/public/v1/drops/claims") => answer(204, ""),
        _ => answer(404, ""),
    })
    .await;
    let client = kick.client();
    let mut query = kick_api::DropClaimQuery::default();
    query.campaign_id = Some("camp".into());
    query.limit = Some(100);
    query.external_status = Some("initiated".into());
    let page = client.app().drop_claims(&query).await.unwrap();
    assert_eq!(page.claims.len(), 1);
    assert_eq!(page.claims[0].user_id, UserId(9));
    assert_eq!(page.cursor.as_deref(), Some("c1"));
    client
        .app()
        .update_drop_claims(&[kick_models::api::DropClaimUpdate {
            claim_id: "c1".into(),
            external_status: "fulfilled".into(),
        }])
        .await
        .unwrap();
    client.app().update_drop_claims(&[]).await.unwrap();
    let calls = kick.seen_at("/public/v1/drops/claims");
    assert_eq!(calls.len(), 2, "nothing is sent for an empty update");
    assert_eq!(calls[0].method, "GET");
    assert_eq!(
        calls[0].query,
        q(&[
            ("campaign_id", "camp"),
            ("limit", "100"),
            ("external_status", "initiated")
        ])
    );
    assert_eq!(
        calls[0].auth.as_deref(),
        Some("Bearer token-1"),
        "the app token"
    );
    assert_eq!(calls[1].method, "PATCH");
    assert_eq!(
        calls[1].json(),
        json!({ "claims": [{ "claim_id": "c1", "external_status": "fulfilled" }] })
    );
}

/// Kick's documented limits are checked before anything is sent, with an error naming the
/// limit.
#[tokio::test]
async fn calls_beyond_kicks_documented_limits_are_refused_unsent() {
    let kick = FakeKick::start(|seen, n| match seen.path.as_str() {
        "/oauth/token" => token(n, 3600),
        _ => answer(500, "must not be asked"),
    })
    .await;
    let client = kick.client();
    let app = client.app();
    let ids: Vec<UserId> = (0..51).map(UserId).collect();
    let err = app.channels_by_ids(&ids).await.unwrap_err();
    assert_eq!(
        err.kind(),
        &kick_api::ApiErrorKind::Invalid("51 broadcaster ids; Kick takes 0 to 50 a request".into())
    );
    let slugs: Vec<String> = (0..51).map(|n| format!("s{n}")).collect();
    assert!(app.channels_by_slugs(&slugs).await.is_err());
    let too_many: Vec<String> = (0..26).map(|n| format!("01X{n}")).collect();
    let err = app.accept_redemptions(&too_many).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "not sent: 26 redemption ids; Kick takes 1 to 25 a request"
    );
    assert!(app.reject_redemptions::<&str>(&[]).await.is_err());
    let updates: Vec<kick_models::api::DropClaimUpdate> = (0..101)
        .map(|n| kick_models::api::DropClaimUpdate {
            claim_id: format!("c{n}"),
            external_status: "fulfilled".into(),
        })
        .collect();
    assert!(app.update_drop_claims(&updates).await.is_err());
    assert!(
        kick.seen().iter().all(|seen| seen.path == "/oauth/token"),
        "nothing but a token was asked for"
    );
}

/// `GET /public/v1/users/livestreams`: repeated `user_id`, the live ones back; none or more
/// than 100 ids are refused unsent.
#[tokio::test]
async fn the_live_streams_of_given_broadcasters() {
    let kick = FakeKick::start(|seen, n| match seen.path.as_str() {
        "/oauth/token" => token(n, 3600),
        "/public/v1/users/livestreams" => ok(json!([{
            "broadcaster_user_id": 7, "channel_id": 70, "slug": "seven", "stream_title": "hi",
            "category": { "id": 15, "name": "Just Chatting", "thumbnail": "" },
            "custom_tags": ["en"], "has_mature_content": false, "language": "en",
            "started_at": "2026-12-03T10:00:00Z", "viewer_count": 42, "new_field": true
        }])),
        _ => answer(404, ""),
    })
    .await;
    let client = kick.client();
    let app = client.app();
    let live = app
        .users_livestreams(&[UserId(7), UserId(8)])
        .await
        .unwrap();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].broadcaster_user_id, UserId(7));
    assert_eq!(live[0].viewer_count, 42);
    assert_eq!(live[0].category.as_ref().unwrap().name, "Just Chatting");
    assert_eq!(
        kick.seen_at("/public/v1/users/livestreams")[0].query,
        q(&[("user_id", "7"), ("user_id", "8")])
    );
    let too_many: Vec<UserId> = (0..101).map(UserId).collect();
    let err = app.users_livestreams(&too_many).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "not sent: 101 broadcaster ids; Kick takes 1 to 100 a request"
    );
    assert!(app.users_livestreams(&[]).await.is_err());
    assert_eq!(kick.seen_at("/public/v1/users/livestreams").len(), 1);
}
