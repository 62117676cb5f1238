//! multistreamer's Raw JSON for stream start, stream end and chat; a versioned envelope for
//! every other event.
//!
//! Each shape is a struct of borrowed fields serialised straight into the body: no
//! intermediate `serde_json::Value` tree, and the chat text and Markdown are written as they
//! are escaped rather than built as strings first.

use std::fmt;

use kick_models::{
    Badge, ChatToken, Delivery, KickEvent, User,
    event::{ChatMessage, LivestreamStatus, Reply},
};
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

use crate::RenderError;

/// The body for `delivery`.
pub(crate) fn render(delivery: &Delivery) -> Result<Vec<u8>, RenderError> {
    let meta = Meta::of(delivery);
    let body = match delivery.event() {
        Some(KickEvent::LivestreamStatusUpdated(status)) if status.is_live => {
            to_vec(&stream_start(meta, status))
        }
        Some(KickEvent::LivestreamStatusUpdated(status)) => to_vec(&stream_end(meta, status)),
        Some(KickEvent::ChatMessageSent(chat)) => to_vec(&comment_in(meta, chat)),
        _ => return envelope(delivery),
    };
    body.map_err(|err| RenderError::Serialize(err.to_string()))
}

fn to_vec(value: &impl Serialize) -> serde_json::Result<Vec<u8>> {
    let mut body = Vec::with_capacity(1024);
    serde_json::to_writer(&mut body, value)?;
    Ok(body)
}

/// `network` as multistreamer writes it, for Kick.
#[derive(Serialize)]
struct Network {
    displayname: &'static str,
    name: &'static str,
}

const KICK: Network = Network {
    displayname: "Kick",
    name: "kick",
};

/// multistreamer's `user`: the streamer whose event this is.
#[derive(Serialize)]
struct Streamer<'a> {
    id: u64,
    username: &'a str,
}

impl<'a> Streamer<'a> {
    fn of(user: &'a User) -> Self {
        Self {
            id: user.user_id.get(),
            username: &user.username,
        }
    }
}

/// multistreamer's `stream`.
#[derive(Serialize)]
struct Stream<'a> {
    id: u64,
    name: &'a str,
    slug: &'a str,
}

/// Delivery metadata, under the one extra key `kick`; flattened into each event's own `kick`.
#[derive(Serialize)]
struct Meta<'a> {
    event_type: &'a str,
    message_id: &'a str,
    subscription_id: Option<&'a str>,
    timestamp: &'a str,
    version: &'a str,
}

impl<'a> Meta<'a> {
    fn of(delivery: &'a Delivery) -> Self {
        let meta = &delivery.headers.meta;
        Self {
            event_type: meta.event_type.as_str(),
            message_id: &meta.message_id,
            subscription_id: meta.subscription_id.as_deref(),
            timestamp: meta.timestamp.as_str(),
            version: &meta.version,
        }
    }
}

/// `stream:start`.
#[derive(Serialize)]
struct StreamStart<'a> {
    hook_type: &'static str,
    accounts: [Account<'a>; 1],
    user: Streamer<'a>,
    stream: Stream<'a>,
    kick: StartMeta<'a>,
}

/// The streamer's account in `stream:start`.
#[derive(Serialize)]
struct Account<'a> {
    id: u64,
    network: Network,
    slug: &'a str,
    name: &'a str,
    http_url: AsString<ChannelUrl<'a>>,
}

/// `kick` of `stream:start`.
#[derive(Serialize)]
struct StartMeta<'a> {
    #[serde(flatten)]
    meta: Meta<'a>,
    started_at: &'a str,
}

/// `kick` of `stream:end`.
#[derive(Serialize)]
struct EndMeta<'a> {
    #[serde(flatten)]
    start: StartMeta<'a>,
    ended_at: Option<&'a str>,
}

/// `stream:end`.
#[derive(Serialize)]
struct StreamEnd<'a> {
    hook_type: &'static str,
    user: Streamer<'a>,
    stream: Stream<'a>,
    kick: EndMeta<'a>,
}

fn stream(status: &LivestreamStatus) -> Stream<'_> {
    let b = &status.broadcaster;
    Stream {
        id: b.user_id.get(),
        name: &status.title,
        slug: &b.channel_slug,
    }
}

fn stream_start<'a>(meta: Meta<'a>, status: &'a LivestreamStatus) -> StreamStart<'a> {
    let b = &status.broadcaster;
    StreamStart {
        hook_type: "stream:start",
        accounts: [Account {
            id: b.user_id.get(),
            network: KICK,
            slug: &b.channel_slug,
            name: &b.username,
            http_url: AsString(ChannelUrl(&b.channel_slug)),
        }],
        user: Streamer::of(b),
        stream: stream(status),
        kick: StartMeta {
            meta,
            started_at: status.started_at.as_str(),
        },
    }
}

fn stream_end<'a>(meta: Meta<'a>, status: &'a LivestreamStatus) -> StreamEnd<'a> {
    StreamEnd {
        hook_type: "stream:end",
        user: Streamer::of(&status.broadcaster),
        stream: stream(status),
        kick: EndMeta {
            start: StartMeta {
                meta,
                started_at: status.started_at.as_str(),
            },
            ended_at: status.ended_at.as_ref().map(kick_models::Timestamp::as_str),
        },
    }
}

/// `comment:in`.
#[derive(Serialize)]
struct CommentIn<'a> {
    hook_type: &'static str,
    account: ChatAccount<'a>,
    user: Streamer<'a>,
    text: AsString<PlainText<'a>>,
    markdown: AsString<Markdown<'a>>,
    network: Network,
    from: From<'a>,
    #[serde(rename = "type")]
    kind: &'static str,
    stream: Stream<'a>,
    kick: ChatMeta<'a>,
}

/// The channel in `comment:in`.
#[derive(Serialize)]
struct ChatAccount<'a> {
    id: u64,
    name: &'a str,
    slug: &'a str,
}

/// The author of a chat message (multistreamer gives ids as strings here).
#[derive(Serialize)]
struct From<'a> {
    name: &'a str,
    id: AsString<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    picture: Option<&'a str>,
}

/// `kick` of `comment:in`.
#[derive(Serialize)]
struct ChatMeta<'a> {
    #[serde(flatten)]
    meta: Meta<'a>,
    chat_message_id: &'a str,
    content: &'a str,
    sender_slug: &'a str,
    /// Only when the sender has an identity.
    #[serde(flatten)]
    identity: Option<IdentityMeta<'a>>,
    reply_to: Option<ReplyTo<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_at: Option<&'a str>,
}

/// The sender's colour (perhaps `null`) and badges.
#[derive(Serialize)]
struct IdentityMeta<'a> {
    color: Option<&'a str>,
    badges: &'a [Badge],
}

/// The parent of a reply.
#[derive(Serialize)]
struct ReplyTo<'a> {
    message_id: &'a str,
    content: &'a str,
    from: From<'a>,
}

impl<'a> ReplyTo<'a> {
    fn of(reply: &'a Reply) -> Self {
        Self {
            message_id: &reply.message_id,
            content: &reply.content,
            from: From {
                name: &reply.sender.username,
                id: AsString(reply.sender.user_id.get()),
                picture: None,
            },
        }
    }
}

fn comment_in<'a>(meta: Meta<'a>, chat: &'a ChatMessage) -> CommentIn<'a> {
    let b = &chat.broadcaster;
    CommentIn {
        hook_type: "comment:in",
        account: ChatAccount {
            id: b.user_id.get(),
            name: &b.username,
            slug: &b.channel_slug,
        },
        user: Streamer::of(b),
        text: AsString(PlainText(chat)),
        markdown: AsString(Markdown(chat)),
        network: KICK,
        from: From {
            name: &chat.sender.username,
            id: AsString(chat.sender.user_id.get()),
            picture: chat.sender.avatar_url(),
        },
        kind: "text",
        stream: Stream {
            id: b.user_id.get(),
            name: &b.username,
            slug: &b.channel_slug,
        },
        kick: ChatMeta {
            meta,
            chat_message_id: &chat.message_id,
            content: &chat.content,
            sender_slug: &chat.sender.channel_slug,
            identity: chat.sender.identity.as_ref().map(|i| IdentityMeta {
                color: i.username_color.as_deref(),
                badges: &i.badges,
            }),
            reply_to: chat.replies_to.as_ref().map(ReplyTo::of),
            created_at: chat.created_at.as_ref().map(kick_models::Timestamp::as_str),
        },
    }
}

/// A value written as a JSON string through its `Display`, escaped as it is produced.
struct AsString<T>(T);

impl<T: fmt::Display> Serialize for AsString<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

/// `https://kick.com/{slug}`.
struct ChannelUrl<'a>(&'a str);

impl fmt::Display for ChannelUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "https://kick.com/{}", self.0)
    }
}

/// The chat text with each emote token replaced by its name.
struct PlainText<'a>(&'a ChatMessage);

impl fmt::Display for PlainText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for token in self.0.tokens() {
            match token {
                ChatToken::Text(part) => f.write_str(part)?,
                ChatToken::Emote { name, .. } => f.write_str(name)?,
            }
        }
        Ok(())
    }
}

/// Markdown for chat: text escaped, emotes as images (`![KEKW](https://files.kick.com/…)`).
struct Markdown<'a>(&'a ChatMessage);

impl fmt::Display for Markdown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for token in self.0.tokens() {
            match token {
                ChatToken::Text(text) => escape_commonmark(text, f)?,
                ChatToken::Emote { id, name } => {
                    f.write_str("![")?;
                    escape_commonmark(name, f)?;
                    write!(f, "](https://files.kick.com/emotes/{id}/fullsize)")?;
                }
            }
        }
        Ok(())
    }
}

/// Backslash-escapes the CommonMark punctuation that can start markup, writing unescaped runs
/// whole.
fn escape_commonmark(text: &str, out: &mut fmt::Formatter<'_>) -> fmt::Result {
    let mut rest = text;
    while let Some(at) = rest.find(|c: char| {
        matches!(
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
        )
    }) {
        out.write_str(&rest[..at])?;
        out.write_str("\\")?;
        // Every character matched above is one byte.
        out.write_str(&rest[at..=at])?;
        rest = &rest[at + 1..];
    }
    out.write_str(rest)
}

/// The envelope for events multistreamer had no name for. Kick's payload is embedded as sent
/// (a `RawValue` is written verbatim), not re-serialised. A body that is not JSON is carried
/// in `body` instead (`event` is `null`), as text when it is UTF-8 and as Base64 otherwise,
/// `body_encoding` saying which: a receiver gets what Kick signed, never a dead letter.
#[derive(Serialize)]
struct Envelope<'a> {
    hook_type: AsString<KickHookType<'a>>,
    version: &'a str,
    message_id: &'a str,
    subscription_id: Option<&'a str>,
    timestamp: &'a str,
    parsed: bool,
    event: Option<&'a RawValue>,
    #[serde(flatten)]
    unparsed: Option<Unparsed<'a>>,
}

/// A body that is not JSON, as the envelope carries it.
#[derive(Serialize)]
#[serde(tag = "body_encoding", content = "body")]
enum Unparsed<'a> {
    /// UTF-8 text, as a JSON string.
    #[serde(rename = "utf-8")]
    Text(&'a str),
    /// Anything else, in standard Base64.
    #[serde(rename = "base64")]
    Base64(AsString<Base64<'a>>),
}

impl<'a> Unparsed<'a> {
    fn of(body: &'a [u8]) -> Self {
        match std::str::from_utf8(body) {
            Ok(text) => Self::Text(text),
            Err(_) => Self::Base64(AsString(Base64(body))),
        }
    }
}

/// Bytes written as standard Base64.
struct Base64<'a>(&'a [u8]);

impl fmt::Display for Base64<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use base64::Engine as _;
        f.write_str(&base64::engine::general_purpose::STANDARD.encode(self.0))
    }
}

/// `kick:<event type>`.
struct KickHookType<'a>(&'a str);

impl fmt::Display for KickHookType<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "kick:{}", self.0)
    }
}

/// `{"hook_type": "kick:<type>", "version", "message_id", "timestamp", "event": <payload>}`.
fn envelope(delivery: &Delivery) -> Result<Vec<u8>, RenderError> {
    let meta = &delivery.headers.meta;
    let event: Option<&RawValue> = serde_json::from_slice(&delivery.body).ok();
    let unparsed = event.is_none().then(|| Unparsed::of(&delivery.body));
    let envelope = Envelope {
        hook_type: AsString(KickHookType(meta.event_type.as_str())),
        version: &meta.version,
        message_id: &meta.message_id,
        subscription_id: meta.subscription_id.as_deref(),
        timestamp: meta.timestamp.as_str(),
        parsed: delivery.event.is_ok(),
        event,
        unparsed,
    };
    to_vec(&envelope).map_err(|err| RenderError::Serialize(err.to_string()))
}
