//! OAuth scopes: what a user token may do.

use std::{fmt, str::FromStr};

/// One of Kick's OAuth scopes; a scope this crate does not know is kept verbatim, so a token
/// granting one Kick adds later still reads.
///
/// ```
/// use kick_api::Scope;
///
/// let granted = Scope::parse_list("user:read chat:write  future:thing");
/// assert_eq!(granted, [Scope::UserRead, Scope::ChatWrite, Scope::Other("future:thing".into())]);
/// assert_eq!(Scope::StreamkeyRead.as_str(), "streamkey:read");
/// ```
#[derive(Clone, Debug, Eq, Hash, PartialEq)]
#[non_exhaustive]
pub enum Scope {
    /// `user:read`: the user's name, email and picture.
    UserRead,
    /// `channel:read`: the user's channel.
    ChannelRead,
    /// `channel:write`: change the channel's title, category and tags.
    ChannelWrite,
    /// `channel:rewards:read`: the channel's rewards and redemptions.
    ChannelRewardsRead,
    /// `channel:rewards:write`: manage rewards, accept or reject redemptions.
    ChannelRewardsWrite,
    /// `chat:write`: send chat messages.
    ChatWrite,
    /// `streamkey:read`: the channel's stream key and ingest URL.
    StreamkeyRead,
    /// `events:subscribe`: subscribe to the channel's webhook events.
    EventsSubscribe,
    /// `moderation:ban`: ban and unban users.
    ModerationBan,
    /// `moderation:chat_message:manage`: delete chat messages.
    ModerationChatMessageManage,
    /// `kicks:read`: the KICKs leaderboard.
    KicksRead,
    /// A scope this crate does not know, kept verbatim.
    Other(String),
}

impl Scope {
    /// The eleven scopes Kick documents.
    pub const ALL: [Self; 11] = [
        Self::UserRead,
        Self::ChannelRead,
        Self::ChannelWrite,
        Self::ChannelRewardsRead,
        Self::ChannelRewardsWrite,
        Self::ChatWrite,
        Self::StreamkeyRead,
        Self::EventsSubscribe,
        Self::ModerationBan,
        Self::ModerationChatMessageManage,
        Self::KicksRead,
    ];

    /// The scope as Kick writes it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::UserRead => "user:read",
            Self::ChannelRead => "channel:read",
            Self::ChannelWrite => "channel:write",
            Self::ChannelRewardsRead => "channel:rewards:read",
            Self::ChannelRewardsWrite => "channel:rewards:write",
            Self::ChatWrite => "chat:write",
            Self::StreamkeyRead => "streamkey:read",
            Self::EventsSubscribe => "events:subscribe",
            Self::ModerationBan => "moderation:ban",
            Self::ModerationChatMessageManage => "moderation:chat_message:manage",
            Self::KicksRead => "kicks:read",
            Self::Other(other) => other,
        }
    }

    /// The scopes of a space-separated list (a token response's `scope`).
    pub fn parse_list(list: &str) -> Vec<Self> {
        list.split_whitespace().map(Self::from).collect()
    }
}

impl From<&str> for Scope {
    fn from(name: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|scope| scope.as_str() == name)
            .unwrap_or_else(|| Self::Other(name.to_owned()))
    }
}

impl FromStr for Scope {
    type Err = std::convert::Infallible;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Ok(Self::from(name))
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
