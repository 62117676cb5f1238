//! `chat.message.sent` v1.

use serde::{Deserialize, Serialize};

use crate::{ChatToken, ChatTokens, Timestamp, User};

/// A chat message (`chat.message.sent` v1).
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct ChatMessage {
    /// Kick's id of the message (a UUID in real deliveries). Duplicate subscriptions deliver
    /// the same message under different delivery ids but with this same id.
    pub message_id: String,
    /// The message this one answers; `None` when not a reply (`null`, or absent in deliveries
    /// from before August 2025).
    #[serde(default)]
    pub replies_to: Option<Reply>,
    /// The channel owner.
    pub broadcaster: User,
    /// The author; the only user with an [`Identity`](crate::Identity).
    pub sender: User,
    /// The raw text, with emotes inline as `[emote:ID:NAME]`.
    pub content: String,
    /// Emote positions; Kick usually sends `null` and only the inline tokens (see
    /// [`ChatMessage::tokens`]).
    #[serde(default)]
    pub emotes: Option<Vec<Emote>>,
    /// When the message was sent (absent before July 2025).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Timestamp>,
}

impl ChatMessage {
    /// The content split into text and emote tokens.
    pub fn tokens(&self) -> ChatTokens<'_> {
        ChatTokens::new(&self.content)
    }

    /// The content with each emote token replaced by its name: what a reader sees in words.
    ///
    /// ```
    /// # let json = include_str!("../../tests/fixtures/chat_minimal.json");
    /// # let mut chat: kick_models::event::ChatMessage = serde_json::from_str(json).unwrap();
    /// chat.content = "gg [emote:37226:KEKW] [emote:1:x".into();
    /// assert_eq!(chat.plain_text(), "gg KEKW [emote:1:x");
    /// ```
    pub fn plain_text(&self) -> String {
        let mut text = String::with_capacity(self.content.len());
        for token in self.tokens() {
            match token {
                ChatToken::Text(part) => text.push_str(part),
                ChatToken::Emote { name, .. } => text.push_str(name),
            }
        }
        text
    }
}

/// The parent of a reply.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct Reply {
    /// Kick's id of the parent message.
    pub message_id: String,
    /// The parent's raw text.
    pub content: String,
    /// The parent's author (no identity).
    pub sender: User,
}

/// Where an emote stands in the content.
#[derive(Clone, Debug, Deserialize, Eq, Hash, PartialEq, Serialize)]
pub struct Emote {
    /// The emote id (digits, as a string).
    pub emote_id: String,
    /// Each occurrence.
    #[serde(default)]
    pub positions: Vec<EmotePosition>,
}

/// One occurrence of an emote: inclusive start and end indices into the content.
#[derive(Clone, Copy, Debug, Deserialize, Eq, Hash, PartialEq, Serialize)]
pub struct EmotePosition {
    /// First index of the token.
    pub s: u64,
    /// Last index of the token (inclusive).
    pub e: u64,
}
