//! Chat (`/public/v1/chat`).

use serde::{Deserialize, Serialize};

use crate::UserId;

/// Who a chat message is sent as.
#[derive(Clone, Copy, Debug, Deserialize, Eq, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatSenderType {
    /// The token's user, into `broadcaster_user_id`'s chat.
    User,
    /// The app's bot, into the authorising user's channel.
    Bot,
}

/// `POST /public/v1/chat` body.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct ChatSend {
    /// Sender type.
    #[serde(rename = "type")]
    pub sender: ChatSenderType,
    /// The text (at most 500 characters).
    pub content: String,
    /// Required for `user`, ignored for `bot`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broadcaster_user_id: Option<UserId>,
    /// Reply to this chat message id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_to_message_id: Option<String>,
}

/// `POST /public/v1/chat` answer.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct ChatSent {
    /// Whether Kick accepted the message.
    pub is_sent: bool,
    /// The new message's id.
    #[serde(default)]
    pub message_id: String,
}
