//! Chat.

use kick_models::api::{ChatSend, ChatSent};
use reqwest::Method;

use crate::{Api, ApiError, transport::Call};

impl Api<'_> {
    /// Sends a chat message as the user or the app's bot (`chat:write`). Not retried after a
    /// 5xx or timeout (it might have been sent); 429 is retried.
    ///
    /// Scope: `chat:write` (user token).
    ///
    /// # Errors
    /// [`ApiError`] from the call.
    pub async fn send_chat(&self, message: &ChatSend) -> Result<ChatSent, ApiError> {
        let call = Call::new(Method::POST, "/public/v1/chat", self.auth).json(message)?;
        self.client.data(call).await
    }

    /// Deletes a chat message (`moderation:chat_message:manage`).
    ///
    /// Scope: `moderation:chat_message:manage` (user token).
    ///
    /// # Errors
    /// [`ApiError`] from the call.
    pub async fn delete_chat_message(&self, message_id: &str) -> Result<(), ApiError> {
        let path = format!("/public/v1/chat/{}", encode_segment(message_id));
        self.client
            .empty(Call::new(Method::DELETE, path, self.auth))
            .await
    }
}

/// Percent-encodes a path segment.
pub(crate) fn encode_segment(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
