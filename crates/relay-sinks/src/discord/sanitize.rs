//! Making untrusted text safe and within Discord's limits.

/// Discord's limit on `content`, in characters.
pub(crate) const CONTENT_LIMIT: usize = 2000;
/// Discord's limit on a webhook `username`, in characters.
pub(crate) const USERNAME_LIMIT: usize = 80;

/// Zero-width space: breaks `@everyone` / `@here` without changing what readers see.
const ZWSP: char = '\u{200B}';

/// Escapes Discord markdown in untrusted text and defuses everything that could ping, link or
/// pose as something else:
///
/// - the characters `\`, `*`, `_`, `~`, `` ` ``, `|`, `>`, `#`, `[`, `]` and `<` are backslash-escaped, so `<@123>`, `<@&123>`, `<#123>`,
///   `<:emoji:1>`, `<t:…>` and masked links `[text](url)` show as typed;
/// - `-` starting a line is escaped (lists, `-#` subtext);
/// - `@everyone` and `@here` get a zero-width space after the `@`.
///
/// Messages also carry `allowed_mentions: {"parse": []}`; this is the second lock.
///
/// ```
/// use relay_sinks::escape_markdown;
/// assert_eq!(escape_markdown("**hi** <@&1> @everyone"), "\\*\\*hi\\*\\* \\<@&1\\> @\u{200B}everyone");
/// ```
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut line_start = true;
    for (at, c) in text.char_indices() {
        match c {
            '\\' | '*' | '_' | '~' | '`' | '|' | '>' | '#' | '[' | ']' | '<' => {
                out.push('\\');
                out.push(c);
            }
            '-' if line_start => out.push_str("\\-"),
            '@' => {
                out.push('@');
                let rest = text.get(at + 1..).unwrap_or_default();
                let lower = rest.get(..8).map(str::to_ascii_lowercase);
                let lower_here = rest.get(..4).map(str::to_ascii_lowercase);
                if lower.as_deref() == Some("everyone") || lower_here.as_deref() == Some("here") {
                    out.push(ZWSP);
                }
            }
            _ => out.push(c),
        }
        line_start = c == '\n' || (line_start && (c == ' ' || c == '\t'));
    }
    out
}

/// Cuts `text` to at most `limit` characters at a character boundary, ending with `…` when
/// anything was cut. A backslash left dangling by the cut is dropped.
///
/// ```
/// use relay_sinks::truncate_chars;
/// assert_eq!(truncate_chars("héllo wörld", 6), "héllo…");
/// assert_eq!(truncate_chars("short", 10), "short");
/// ```
pub fn truncate_chars(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_owned();
    }
    let keep = limit.saturating_sub(1);
    let mut cut: String = text.chars().take(keep).collect();
    let trailing = cut.chars().rev().take_while(|c| *c == '\\').count();
    if trailing % 2 == 1 {
        cut.pop();
    }
    cut.push('…');
    cut
}

/// Makes a Kick name usable as a Discord webhook `username`: removes `@ # :` and triple
/// backticks, and the words Discord refuses in webhook names ("discord", "clyde"), trims, and
/// cuts to 80 characters. `None` when nothing usable is left (Discord then shows the webhook's
/// own name), or when the result would be `everyone` or `here`.
///
/// ```
/// use relay_sinks::sanitize_username;
/// assert_eq!(sanitize_username("Discord_Fan#1"), Some("_Fan1".to_owned()));
/// assert_eq!(sanitize_username("@everyone"), None);
/// ```
pub fn sanitize_username(name: &str) -> Option<String> {
    let mut cleaned: String = name
        .replace("```", "")
        .chars()
        .filter(|c| !matches!(c, '@' | '#' | ':') && !c.is_control())
        .collect();
    // ASCII lower-casing keeps byte offsets, so a match in `lower` is a range in `cleaned`.
    while let Some((at, len)) = ["discord", "clyde"].iter().find_map(|word| {
        cleaned
            .to_ascii_lowercase()
            .find(word)
            .map(|at| (at, word.len()))
    }) {
        cleaned.replace_range(at..at + len, "");
    }
    let trimmed = cleaned.trim();
    let cut = truncate_chars(trimmed, USERNAME_LIMIT);
    let cut = cut.trim().to_owned();
    let reserved = cut.eq_ignore_ascii_case("everyone") || cut.eq_ignore_ascii_case("here");
    (!cut.is_empty() && !reserved).then_some(cut)
}
