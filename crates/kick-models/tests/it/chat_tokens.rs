//! Chat content split into text and emote tokens.

use kick_models::{ChatToken, ChatTokens, emote_image_url};

fn tokens(content: &str) -> Vec<ChatToken<'_>> {
    ChatTokens::new(content).collect()
}

#[test]
fn emotes_between_text() {
    assert_eq!(
        tokens("Hello [emote:4148074:HYPERCLAP] [emote:37226:KEKW]"),
        [
            ChatToken::Text("Hello "),
            ChatToken::Emote {
                id: "4148074",
                name: "HYPERCLAP"
            },
            ChatToken::Text(" "),
            ChatToken::Emote {
                id: "37226",
                name: "KEKW"
            },
        ]
    );
}

#[test]
fn adjacent_emotes_and_emote_only_messages() {
    assert_eq!(
        tokens("[emote:1:a][emote:2:b]"),
        [
            ChatToken::Emote { id: "1", name: "a" },
            ChatToken::Emote { id: "2", name: "b" }
        ]
    );
    assert!(tokens("").is_empty());
}

#[test]
fn look_alikes_stay_text_in_one_token() {
    for content in [
        "[emote:abc:x]",
        "[emote:12:]",
        "[emote::x]",
        "[emote:12:x y]",
        "[emote:12:x",
        "[emote:",
        "a [emote:1: b] c",
    ] {
        assert_eq!(tokens(content), [ChatToken::Text(content)], "{content}");
    }
    assert_eq!(
        tokens("[emote:x] [emote:5:ok]"),
        [
            ChatToken::Text("[emote:x] "),
            ChatToken::Emote {
                id: "5",
                name: "ok"
            }
        ]
    );
}

#[test]
fn multibyte_text_is_split_on_char_boundaries() {
    assert_eq!(
        tokens("héllo 🎉[emote:7:PogU]ü"),
        [
            ChatToken::Text("héllo 🎉"),
            ChatToken::Emote {
                id: "7",
                name: "PogU"
            },
            ChatToken::Text("ü")
        ]
    );
    assert_eq!(tokens("é"), [ChatToken::Text("é")]);
}

#[test]
fn tokens_rebuild_the_content() {
    let content = "a [emote:1:x] [emote:y] b[emote:22:z]";
    let rebuilt: String = tokens(content)
        .into_iter()
        .map(|token| match token {
            ChatToken::Text(text) => text.to_owned(),
            ChatToken::Emote { id, name } => format!("[emote:{id}:{name}]"),
        })
        .collect();
    assert_eq!(rebuilt, content);
}

#[test]
fn emote_image_url_uses_kicks_file_host() {
    assert_eq!(
        emote_image_url("4148074"),
        "https://files.kick.com/emotes/4148074/fullsize"
    );
}
