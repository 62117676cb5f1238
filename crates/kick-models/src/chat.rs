//! Chat content helpers: emote tokens, emote images, channel links.

/// Kick's channel page: `https://kick.com/{slug}`.
///
/// ```
/// assert_eq!(kick_models::channel_url("xqc"), "https://kick.com/xqc");
/// ```
pub fn channel_url(slug: &str) -> String {
    format!("https://kick.com/{slug}")
}

/// The image of an emote by id, as Kick's own chat shows it:
/// `https://files.kick.com/emotes/{id}/fullsize`.
///
/// ```
/// assert_eq!(
///     kick_models::emote_image_url("37226"),
///     "https://files.kick.com/emotes/37226/fullsize"
/// );
/// ```
pub fn emote_image_url(emote_id: &str) -> String {
    format!("https://files.kick.com/emotes/{emote_id}/fullsize")
}

/// A piece of chat content: plain text or an emote token `[emote:ID:NAME]`.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum ChatToken<'a> {
    /// Text between emotes, exactly as sent.
    Text(&'a str),
    /// An emote written inline as `[emote:ID:NAME]`.
    Emote {
        /// The emote id (digits).
        id: &'a str,
        /// The emote name, e.g. `KEKW`.
        name: &'a str,
    },
}

/// Splits chat content into [`ChatToken`]s; see [`crate::event::ChatMessage::tokens`].
///
/// Anything that only looks like an emote (`[emote:x]`, `[emote:12:]`, an unclosed bracket)
/// stays text. Adjacent text is never split into more than one token.
///
/// ```
/// use kick_models::{ChatToken, ChatTokens};
///
/// let tokens: Vec<_> = ChatTokens::new("hi [emote:37226:KEKW]!").collect();
/// assert_eq!(
///     tokens,
///     [
///         ChatToken::Text("hi "),
///         ChatToken::Emote { id: "37226", name: "KEKW" },
///         ChatToken::Text("!"),
///     ]
/// );
/// ```
#[derive(Clone, Debug)]
pub struct ChatTokens<'a> {
    rest: &'a str,
}

impl<'a> ChatTokens<'a> {
    /// Tokens of `content`.
    pub const fn new(content: &'a str) -> Self {
        Self { rest: content }
    }
}

const EMOTE_OPEN: &str = "[emote:";

/// Reads `[emote:ID:NAME]` at the start of `text`: returns id, name and the bytes consumed.
fn emote_at(text: &str) -> Option<(&str, &str, usize)> {
    let inner = text.strip_prefix(EMOTE_OPEN)?;
    let (id, after_id) = inner.split_once(':')?;
    let close = after_id.find(']')?;
    let name = after_id.get(..close)?;
    let valid_id = !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit());
    let valid_name = !name.is_empty()
        && name
            .chars()
            .all(|c| !c.is_whitespace() && c != '[' && c != ':');
    (valid_id && valid_name).then_some((id, name, EMOTE_OPEN.len() + id.len() + 1 + close + 1))
}

impl<'a> Iterator for ChatTokens<'a> {
    type Item = ChatToken<'a>;

    fn next(&mut self) -> Option<ChatToken<'a>> {
        if self.rest.is_empty() {
            return None;
        }
        if let Some((id, name, len)) = emote_at(self.rest) {
            self.rest = self.rest.get(len..).unwrap_or_default();
            return Some(ChatToken::Emote { id, name });
        }
        // Text runs to the next real emote token (skipping look-alikes).
        let mut search_from = self.rest.chars().next().map_or(1, char::len_utf8);
        let end = loop {
            match self
                .rest
                .get(search_from..)
                .and_then(|tail| tail.find(EMOTE_OPEN))
            {
                None => break self.rest.len(),
                Some(offset) => {
                    let at = search_from + offset;
                    if self.rest.get(at..).and_then(emote_at).is_some() {
                        break at;
                    }
                    search_from = at + 1;
                }
            }
        };
        let (text, rest) = self.rest.split_at(end);
        self.rest = rest;
        Some(ChatToken::Text(text))
    }
}
