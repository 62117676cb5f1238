//! Several chat messages as one Discord message: one line each, in Kick's order.
//!
//! A webhook may post 5 messages per 2 s and a channel only 30 per minute, so a busy chat
//! cannot get one Discord message per chat message. The relay sends what waits together:
//! each chat message becomes a line (`**sender**: text`, escaped like single messages, emotes
//! by name) and as many lines as fit in Discord's 2000 characters go out as one message.

use kick_models::event::ChatMessage;

use super::{
    render::{AllowedMentions, DiscordMessage},
    sanitize::{CONTENT_LIMIT, escape_markdown, truncate_chars},
};

/// Longest single chat line in a batch, in characters (a long message does not crowd out the
/// others; a quiet chat still gets the whole message in its own form).
const LINE_LIMIT: usize = 400;

/// The line `message` contributes to a batch: `**sender**: text` on one line, escaped.
pub(crate) fn chat_line(message: &ChatMessage) -> String {
    let text = message.plain_text().replace(['\n', '\r'], " ");
    let line = format!(
        "**{}**: {}",
        escape_markdown(&message.sender.username),
        escape_markdown(text.trim())
    );
    truncate_chars(&line, LINE_LIMIT)
}

/// The line that stands for chat messages skipped to keep the channel current.
pub(crate) fn skipped_line(skipped: usize) -> String {
    let noun = if skipped == 1 {
        "chat message"
    } else {
        "chat messages"
    };
    format!("… {skipped} {noun} skipped (faster than Discord allows)")
}

/// One message from the first lines that fit in `CONTENT_LIMIT`, after the skipped line when
/// `skipped > 0`; how many of `lines` it holds (at least one when there is any line).
pub(crate) fn combine(lines: &[&str], skipped: usize) -> Option<(DiscordMessage, usize)> {
    let mut content = String::new();
    let mut length = 0;
    if skipped > 0 {
        content = skipped_line(skipped);
        length = content.chars().count();
    }
    let mut used = 0;
    for line in lines {
        let line_length = line.chars().count();
        let separator = usize::from(length > 0);
        if length + separator + line_length > CONTENT_LIMIT {
            if used == 0 && length == 0 {
                // A single line longer than a message: cut it (lines are capped far below).
                content = truncate_chars(line, CONTENT_LIMIT);
                used = 1;
            }
            break;
        }
        if separator == 1 {
            content.push('\n');
        }
        content.push_str(line);
        length += separator + line_length;
        used += 1;
    }
    (!content.is_empty()).then(|| {
        (
            DiscordMessage {
                content,
                username: None,
                avatar_url: None,
                allowed_mentions: AllowedMentions::none(),
            },
            used,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_fill_one_message_up_to_the_limit_in_order() {
        let line = "x".repeat(99);
        let lines: Vec<&str> = std::iter::repeat_n(line.as_str(), 50).collect();
        let (message, used) = combine(&lines, 0).unwrap();
        assert_eq!(used, 20, "20 lines of 99 + 19 newlines = 1999 characters");
        assert_eq!(message.content.chars().count(), 1999);
        assert_eq!(message.content.lines().count(), 20);
    }

    #[test]
    fn the_skipped_line_comes_first_and_counts_against_the_limit() {
        let (message, used) = combine(&["**a**: hi", "**b**: yo"], 212).unwrap();
        assert_eq!(used, 2);
        assert_eq!(
            message.content,
            "… 212 chat messages skipped (faster than Discord allows)\n**a**: hi\n**b**: yo"
        );
        let (message, used) = combine(&[], 1).unwrap();
        assert_eq!(used, 0);
        assert!(message.content.starts_with("… 1 chat message skipped"));
        assert!(combine(&[], 0).is_none());
    }

    #[test]
    fn an_overlong_single_line_is_cut_to_one_message() {
        let line = "y".repeat(2500);
        let (message, used) = combine(&[&line, "next"], 0).unwrap();
        assert_eq!(used, 1);
        assert_eq!(message.content.chars().count(), CONTENT_LIMIT);
    }
}
