//! multistreamer's Raw JSON for stream start, stream end and chat; a versioned envelope for
//! every other event.

use kick_models::{
    ChatToken, Delivery, KickEvent, User, channel_url, emote_image_url,
    event::{ChatMessage, LivestreamStatus},
};
use serde::Serialize;
use serde_json::{Value, json, value::RawValue};

use crate::RenderError;

/// `network` as multistreamer writes it, for Kick.
fn network() -> Value {
    json!({ "displayname": "Kick", "name": "kick" })
}

/// multistreamer's `user`: the streamer whose event this is.
fn streamer(user: &User) -> Value {
    json!({ "username": user.username, "id": user.user_id })
}

/// Delivery metadata, under the one extra key `kick`.
fn kick_meta(delivery: &Delivery) -> serde_json::Map<String, Value> {
    let meta = &delivery.headers.meta;
    let mut kick = serde_json::Map::new();
    kick.insert("message_id".into(), json!(meta.message_id));
    kick.insert("subscription_id".into(), json!(meta.subscription_id));
    kick.insert("timestamp".into(), json!(meta.timestamp.as_str()));
    kick.insert("event_type".into(), json!(meta.event_type.as_str()));
    kick.insert("version".into(), json!(meta.version));
    kick
}

/// The body for `delivery`.
pub(crate) fn render(delivery: &Delivery) -> Result<Vec<u8>, RenderError> {
    let value = match delivery.event() {
        Some(KickEvent::LivestreamStatusUpdated(status)) if status.is_live => {
            stream_start(delivery, status)
        }
        Some(KickEvent::LivestreamStatusUpdated(status)) => stream_end(delivery, status),
        Some(KickEvent::ChatMessageSent(chat)) => comment_in(delivery, chat),
        _ => return envelope(delivery),
    };
    serde_json::to_vec(&value).map_err(|err| RenderError::NotJson(err.to_string()))
}

fn stream_json(user: &User, title: &str) -> Value {
    json!({ "slug": user.channel_slug, "name": title, "id": user.user_id })
}

fn stream_start(delivery: &Delivery, status: &LivestreamStatus) -> Value {
    let b = &status.broadcaster;
    let mut kick = kick_meta(delivery);
    kick.insert("started_at".into(), json!(status.started_at.as_str()));
    json!({
        "hook_type": "stream:start",
        "accounts": [{
            "id": b.user_id,
            "network": network(),
            "slug": b.channel_slug,
            "name": b.username,
            "http_url": channel_url(&b.channel_slug),
        }],
        "user": streamer(b),
        "stream": stream_json(b, &status.title),
        "kick": kick,
    })
}

fn stream_end(delivery: &Delivery, status: &LivestreamStatus) -> Value {
    let b = &status.broadcaster;
    let mut kick = kick_meta(delivery);
    kick.insert("started_at".into(), json!(status.started_at.as_str()));
    kick.insert(
        "ended_at".into(),
        json!(status.ended_at.as_ref().map(kick_models::Timestamp::as_str)),
    );
    json!({
        "hook_type": "stream:end",
        "user": streamer(b),
        "stream": stream_json(b, &status.title),
        "kick": kick,
    })
}

fn comment_in(delivery: &Delivery, chat: &ChatMessage) -> Value {
    let b = &chat.broadcaster;
    let mut from = json!({ "name": chat.sender.username, "id": chat.sender.user_id.to_string() });
    if let Some(picture) = chat.sender.avatar_url() {
        from["picture"] = json!(picture);
    }
    let mut kick = kick_meta(delivery);
    kick.insert("chat_message_id".into(), json!(chat.message_id));
    kick.insert("content".into(), json!(chat.content));
    kick.insert("sender_slug".into(), json!(chat.sender.channel_slug));
    if let Some(identity) = &chat.sender.identity {
        kick.insert("color".into(), json!(identity.username_color));
        kick.insert("badges".into(), json!(identity.badges));
    }
    kick.insert(
        "reply_to".into(),
        json!(chat.replies_to.as_ref().map(|r| json!({
            "message_id": r.message_id,
            "content": r.content,
            "from": { "name": r.sender.username, "id": r.sender.user_id.to_string() },
        }))),
    );
    if let Some(at) = &chat.created_at {
        kick.insert("created_at".into(), json!(at.as_str()));
    }
    json!({
        "hook_type": "comment:in",
        "account": { "id": b.user_id, "name": b.username, "slug": b.channel_slug },
        "user": streamer(b),
        "text": chat.plain_text(),
        "markdown": chat_markdown(chat),
        "network": network(),
        "from": from,
        "type": "text",
        "stream": { "slug": b.channel_slug, "name": b.username, "id": b.user_id },
        "kick": kick,
    })
}

/// Markdown for chat: text escaped, emotes as images (`![KEKW](https://files.kick.com/…)`).
pub(crate) fn chat_markdown(chat: &ChatMessage) -> String {
    let mut out = String::with_capacity(chat.content.len() + 16);
    for token in chat.tokens() {
        match token {
            ChatToken::Text(text) => escape_commonmark(text, &mut out),
            ChatToken::Emote { id, name } => {
                out.push_str("![");
                escape_commonmark(name, &mut out);
                out.push_str("](");
                out.push_str(&emote_image_url(id));
                out.push(')');
            }
        }
    }
    out
}

/// Backslash-escapes the CommonMark punctuation that can start markup.
fn escape_commonmark(text: &str, out: &mut String) {
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '`'
                | '*'
                | '_'
                | '{'
                | '}'
                | '['
                | ']'
                | '('
                | ')'
                | '#'
                | '+'
                | '-'
                | '.'
                | '!'
                | '|'
                | '<'
                | '>'
                | '~'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
}

/// The envelope for events multistreamer had no name for. Kick's payload is embedded as sent
/// (a `RawValue` is written verbatim), not re-serialised.
#[derive(Serialize)]
struct Envelope<'a> {
    hook_type: String,
    version: &'a str,
    message_id: &'a str,
    subscription_id: Option<&'a str>,
    timestamp: &'a str,
    parsed: bool,
    event: &'a RawValue,
}

/// `{"hook_type": "kick:<type>", "version", "message_id", "timestamp", "event": <payload>}`.
fn envelope(delivery: &Delivery) -> Result<Vec<u8>, RenderError> {
    let meta = &delivery.headers.meta;
    let event: &RawValue = serde_json::from_slice(&delivery.body)
        .map_err(|err| RenderError::NotJson(err.to_string()))?;
    let envelope = Envelope {
        hook_type: format!("kick:{}", meta.event_type),
        version: &meta.version,
        message_id: &meta.message_id,
        subscription_id: meta.subscription_id.as_deref(),
        timestamp: meta.timestamp.as_str(),
        parsed: delivery.event.is_ok(),
        event,
    };
    serde_json::to_vec(&envelope).map_err(|err| RenderError::NotJson(err.to_string()))
}
