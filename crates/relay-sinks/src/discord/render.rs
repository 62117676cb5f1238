//! Discord messages for every Kick event.

use kick_models::{
    KickEvent, User,
    event::{Ban, RedemptionStatus, RewardRedemption, SubscriptionGifts},
};
use serde::Serialize;

use super::sanitize::{CONTENT_LIMIT, escape_markdown, sanitize_username, truncate_chars};

/// The JSON body of a Discord webhook execution.
#[derive(Clone, Debug, Eq, PartialEq, Serialize)]
pub(crate) struct DiscordMessage {
    pub(crate) content: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) avatar_url: Option<String>,
    pub(crate) allowed_mentions: AllowedMentions,
}

/// Always `{"parse": []}`: nothing in a relayed message can ping.
#[derive(Clone, Debug, Eq, PartialEq, Serialize)]
pub(crate) struct AllowedMentions {
    parse: [&'static str; 0],
}

impl AllowedMentions {
    /// `{"parse": []}`.
    pub(crate) const fn none() -> Self {
        Self { parse: [] }
    }
}

/// A name for message text: escaped so that markdown in names stays literal.
fn name(user: &User) -> String {
    escape_markdown(&user.username)
}

/// `1 month`, `3 months`.
fn plural(count: u64, one: &str, many: &str) -> String {
    if count == 1 {
        format!("1 {one}")
    } else {
        format!("{count} {many}")
    }
}

/// `90` → `1 minute 30 seconds`, `7200` → `2 hours`.
fn human_duration(secs: i64) -> String {
    let secs = u64::try_from(secs).unwrap_or(0);
    let units = [
        (86_400, "day", "days"),
        (3_600, "hour", "hours"),
        (60, "minute", "minutes"),
        (1, "second", "seconds"),
    ];
    let mut rest = secs;
    let mut parts = Vec::new();
    for (size, one, many) in units {
        let count = rest / size;
        if count > 0 && parts.len() < 2 {
            parts.push(plural(count, one, many));
        }
        rest %= size;
    }
    if parts.is_empty() {
        "0 seconds".to_owned()
    } else {
        parts.join(" ")
    }
}

/// Appends `: {text}` (escaped) when `text` is not blank.
fn with_detail(mut content: String, text: &str) -> String {
    if !text.trim().is_empty() {
        content.push_str(": ");
        content.push_str(&escape_markdown(text.trim()));
    }
    content
}

/// The message for `event`, or `None` for events Discord has no message for (unknown types).
/// Whether [`message`] has a message for `event`, without rendering it: every known event but
/// a chat message with nothing to show.
pub(crate) fn has_message(event: &KickEvent) -> bool {
    if let KickEvent::ChatMessageSent(chat) = event {
        return !chat.plain_text().trim().is_empty();
    }
    matches!(
        event,
        KickEvent::LivestreamStatusUpdated(_)
            | KickEvent::ChannelFollowed(_)
            | KickEvent::ChannelSubscriptionNew(_)
            | KickEvent::ChannelSubscriptionRenewal(_)
            | KickEvent::ChannelSubscriptionGifts(_)
            | KickEvent::KicksGifted(_)
            | KickEvent::ChannelRewardRedemptionUpdated(_)
            | KickEvent::ModerationBanned(_)
            | KickEvent::LivestreamMetadataUpdated(_)
    )
}

pub(crate) fn message(event: &KickEvent) -> Option<DiscordMessage> {
    let (content, username, avatar) = match event {
        KickEvent::LivestreamStatusUpdated(status) => {
            let b = &status.broadcaster;
            let content = if status.is_live {
                format!("{} is now streaming! {}", name(b), b.channel_url())
            } else {
                format!("{} has stopped streaming", name(b))
            };
            (content, sanitize_username(&b.username), b.avatar_url())
        }
        KickEvent::ChatMessageSent(chat) => (
            escape_markdown(&chat.plain_text()),
            sanitize_username(&chat.sender.username).map(|n| format!("{n} @ Kick")),
            chat.sender.avatar_url(),
        ),
        KickEvent::ChannelFollowed(follow) => (
            format!("{} just followed!", name(&follow.follower)),
            channel_name(&follow.broadcaster),
            follow.follower.avatar_url(),
        ),
        KickEvent::ChannelSubscriptionNew(sub) => (
            format!("{} just subscribed!", name(&sub.subscriber)),
            channel_name(&sub.broadcaster),
            sub.subscriber.avatar_url(),
        ),
        KickEvent::ChannelSubscriptionRenewal(sub) => (
            format!(
                "{} resubscribed! Subscribed for {}.",
                name(&sub.subscriber),
                plural(sub.duration, "month", "months")
            ),
            channel_name(&sub.broadcaster),
            sub.subscriber.avatar_url(),
        ),
        KickEvent::ChannelSubscriptionGifts(gifts) => (
            gifts_text(gifts),
            channel_name(&gifts.broadcaster),
            gifts.gifter.user().and_then(User::avatar_url),
        ),
        KickEvent::KicksGifted(kicks) => (
            with_detail(
                format!(
                    "{} sent {} ({})",
                    name(&kicks.sender),
                    plural(kicks.gift.amount, "KICK", "KICKs"),
                    escape_markdown(&kicks.gift.name)
                ),
                &kicks.gift.message,
            ),
            channel_name(&kicks.broadcaster),
            kicks.sender.avatar_url(),
        ),
        KickEvent::ChannelRewardRedemptionUpdated(redemption) => (
            redemption_text(redemption),
            channel_name(&redemption.broadcaster),
            redemption.redeemer.avatar_url(),
        ),
        KickEvent::ModerationBanned(ban) => (ban_text(ban), channel_name(&ban.broadcaster), None),
        KickEvent::LivestreamMetadataUpdated(update) => {
            let meta = &update.metadata;
            let mut content = format!(
                "{} updated the stream: {} ({})",
                name(&update.broadcaster),
                escape_markdown(&meta.title),
                escape_markdown(&meta.category.name)
            );
            if meta.has_mature_content {
                content.push_str(" [mature]");
            }
            (
                content,
                channel_name(&update.broadcaster),
                update.broadcaster.avatar_url(),
            )
        }
        _ => return None,
    };
    let content = truncate_chars(&content, CONTENT_LIMIT);
    (!content.trim().is_empty()).then(|| DiscordMessage {
        content,
        username,
        avatar_url: avatar.map(str::to_owned),
        allowed_mentions: AllowedMentions::none(),
    })
}

/// Channel events post under the channel's name, like multistreamer's stream messages.
fn channel_name(broadcaster: &User) -> Option<String> {
    sanitize_username(&broadcaster.username)
}

fn gifts_text(gifts: &SubscriptionGifts) -> String {
    const NAMED: usize = 10;
    let gifter = gifts
        .gifter
        .user()
        .map_or_else(|| "An anonymous gifter".to_owned(), name);
    let count = gifts.giftees.len();
    let mut names = gifts
        .giftees
        .iter()
        .take(NAMED)
        .map(name)
        .collect::<Vec<_>>()
        .join(", ");
    if count > NAMED {
        names = format!("{names} and {} more", count - NAMED);
    }
    match count {
        0 => format!("{gifter} gifted subscriptions!"),
        1 => format!("{gifter} gifted a subscription to {names}!"),
        _ => format!("{gifter} gifted {count} subscriptions to {names}!"),
    }
}

fn redemption_text(redemption: &RewardRedemption) -> String {
    let who = name(&redemption.redeemer);
    let title = escape_markdown(&redemption.reward.title);
    match &redemption.status {
        RedemptionStatus::Pending => with_detail(
            format!(
                "{who} redeemed {title} for {}",
                plural(redemption.reward.cost, "point", "points")
            ),
            &redemption.user_input,
        ),
        RedemptionStatus::Accepted => format!("{who}'s {title} redemption was accepted"),
        RedemptionStatus::Rejected => format!("{who}'s {title} redemption was rejected"),
        other => format!(
            "{who}'s {title} redemption is now {}",
            escape_markdown(other.as_str())
        ),
    }
}

fn ban_text(ban: &Ban) -> String {
    let moderator = name(&ban.moderator);
    let target = name(&ban.banned_user);
    let text = match ban.timeout_secs() {
        None => format!("{moderator} banned {target}"),
        Some(secs) => format!(
            "{moderator} timed out {target} for {}",
            human_duration(secs)
        ),
    };
    with_detail(text, &ban.metadata.reason)
}
