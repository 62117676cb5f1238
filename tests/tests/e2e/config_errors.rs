//! Configuration mistakes are refused with the key and the line.

use relay_bin::config::Config;
use relay_tests::TestRelay;

fn load(toml: &str) -> String {
    let dir = TestRelay::fresh_dir();
    let path = dir.join("bad.toml");
    std::fs::write(&path, toml).unwrap();
    let err = format!("{:#}", Config::load(Some(&path)).unwrap_err());
    std::fs::remove_dir_all(&dir).unwrap();
    err
}

#[test]
fn unknown_keys_name_the_key_and_line() {
    let err = load("[server]\nlisten = \"127.0.0.1:3000\"\nwebhok_path = \"/x\"\n");
    assert!(
        err.contains("webhok_path") && err.contains("line 3"),
        "{err}"
    );
}

#[test]
fn bad_urls_duplicate_names_and_impossible_values() {
    let err = load("[[output]]\nname = \"a\"\ntype = \"raw\"\nurl = \"ftp://x\"\n");
    assert!(
        err.contains("line 4") && err.contains("url") && err.contains("http"),
        "{err}"
    );
    let err = load(
        "[[output]]\nname = \"a\"\ntype = \"raw\"\nurl = \"http://127.0.0.1:1/\"\n[[output]]\nname = \"a\"\ntype = \"raw\"\nurl = \"http://127.0.0.1:1/\"\n",
    );
    assert!(
        err.contains("line 6") && err.contains("used by an earlier output"),
        "{err}"
    );
    let err =
        load("[[output]]\nname = \"a\"\ntype = \"telegram\"\nurl = \"http://127.0.0.1:1/\"\n");
    assert!(err.contains("telegram") && err.contains("line 3"), "{err}");
    let err = load(
        "[[output]]\nname = \"a\"\ntype = \"raw\"\nurl = \"http://127.0.0.1:1/\"\nevents = [\"chat.mesage.sent\"]\n",
    );
    assert!(
        err.contains("line 5") && err.contains("chat.mesage.sent"),
        "{err}"
    );
    let err = load(
        "[[output]]\nname = \"a\"\ntype = \"discord\"\nurl = \"http://127.0.0.1:1/\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n",
    );
    assert!(err.contains("raw") && err.contains("line 5"), "{err}");
    let err = load(
        "[[output]]\nname = \"a\"\ntype = \"discord\"\nurl = \"http://127.0.0.1:1/\"\nmax_in_flight = 4\n",
    );
    assert!(
        err.contains("one request at a time") && err.contains("line 5"),
        "{err}"
    );
    for value in ["0", "65"] {
        let err = load(&format!(
            "[[output]]\nname = \"a\"\ntype = \"raw\"\nurl = \"http://127.0.0.1:1/\"\nmax_in_flight = {value}\n"
        ));
        assert!(
            err.contains("max_in_flight: must be 1 to 64") && err.contains("line 5"),
            "{err}"
        );
    }
    let err = load("[server]\nmax_body_bytes = 0\n");
    assert!(err.contains("max_body_bytes"), "{err}");
    let err = load("[server]\nmax_connections = 0\n");
    assert!(err.contains("server.max_connections = 0"), "{err}");
    let err = load("[server]\nmax_body_bytes = 2000\nmax_buffered_body_bytes = 1000\n");
    assert!(
        err.contains("server.max_buffered_body_bytes = 1000") && err.contains("at least"),
        "{err}"
    );
    let err = load("[server]\nlisten = \"not an address\"\n");
    assert!(err.contains("listen") && err.contains("line 2"), "{err}");
}

#[test]
fn a_missing_file_says_so() {
    let err = format!(
        "{:#}",
        Config::load(Some(std::path::Path::new("/nonexistent/kick-relay.toml"))).unwrap_err()
    );
    assert!(
        err.contains("cannot read config file /nonexistent/kick-relay.toml"),
        "{err}"
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

    #[test]
    fn arbitrary_config_files_never_panic(text in "(\\[server\\]|\\[\\[output\\]\\]|[a-z_]{1,12} = (\"[^\"]{0,20}\"|[0-9]{1,6}|\\[\\])|\n|.){0,40}") {
        let dir = TestRelay::fresh_dir();
        let path = dir.join("any.toml");
        std::fs::write(&path, &text).unwrap();
        let _ = Config::load(Some(&path));
        let _ = std::fs::remove_dir_all(dir);
    }
}

fn load_ok(toml: &str) -> Config {
    let dir = TestRelay::fresh_dir();
    let path = dir.join("good.toml");
    std::fs::write(&path, toml).unwrap();
    let config = Config::load(Some(&path)).unwrap().0;
    std::fs::remove_dir_all(&dir).unwrap();
    config
}

#[test]
fn every_variable_inside_a_longer_value_is_expanded() {
    // PATH is set wherever tests run; tests cannot set variables (no unsafe code).
    let path = std::env::var("PATH").unwrap();
    let config = load_ok(
        "[[output]]\nname = \"a\"\ntype = \"raw\"\nurl = \"http://127.0.0.1:1/p/${PATH}/q/${PATH}\"\n\
         [kick]\nclient_id = \"id-${PATH}\"\n",
    );
    assert_eq!(
        *config.output_tables[0].url.get_ref(),
        format!("http://127.0.0.1:1/p/{path}/q/{path}")
    );
    assert_eq!(config.kick.client_id, Some(format!("id-{path}")));
    // $$ is a literal $, a lone $ stays.
    let config = load_ok("[kick]\nclient_id = \"a$$b$c\"\n");
    assert_eq!(config.kick.client_id.as_deref(), Some("a$b$c"));
}

#[test]
fn an_unset_variable_anywhere_names_the_key_and_line() {
    let err = load(
        "[[output]]\nname = \"a\"\ntype = \"discord\"\n\
         url = \"https://discord.com/api/webhooks/${KICK_RELAY_TEST_UNSET_ID}/${KICK_RELAY_TEST_UNSET_TOKEN}\"\n",
    );
    assert!(
        err.contains("line 4")
            && err.contains("output \"a\" url")
            && err.contains("KICK_RELAY_TEST_UNSET_ID is not set"),
        "{err}"
    );
    let err = load("[kick]\nclient_secret = \"${KICK_RELAY_TEST_UNSET_SECRET}\"\n");
    assert!(
        err.contains("line 2") && err.contains("kick.client_secret"),
        "{err}"
    );
    let err = load("[kick]\n\nclient_id = \"x${oops\"\n");
    assert!(err.contains("line 3") && err.contains("closing }"), "{err}");
}

#[test]
fn an_admin_listener_off_loopback_needs_a_long_token() {
    let err = load("[admin]\nlisten = \"0.0.0.0:9091\"\n");
    assert!(
        err.contains("admin.listen") && err.contains("admin.token") && err.contains("loopback"),
        "{err}"
    );
    let err = load("[admin]\nlisten = \"0.0.0.0:9091\"\ntoken = \"short\"\n");
    assert!(err.contains("shorter than 16"), "{err}");
    let config = load_ok("[admin]\nlisten = \"0.0.0.0:9091\"\ntoken = \"0123456789abcdef0123\"\n");
    assert!(
        !format!("{config:?}").contains("0123456789abcdef0123"),
        "the token is redacted in Debug"
    );
}

#[test]
fn typed_values_name_what_they_take() {
    let err = load("[storage]\n\nsynchronous = \"fast\"\n");
    assert!(
        err.contains("fast")
            && err.contains("full")
            && err.contains("normal")
            && err.contains("line 3"),
        "{err}"
    );
    let config = load_ok("[storage]\nsynchronous = \"normal\"\n");
    assert_eq!(
        config.storage.synchronous,
        relay_bin::config::Synchronous::Normal
    );
}

#[test]
fn retry_schedules_take_fractions_of_a_second_within_bounds() {
    let config = load_ok(
        "[[output]]\nname = \"a\"\ntype = \"raw\"\nurl = \"http://127.0.0.1:1/\"\nretry_schedule_secs = [0.25, 2, 1.5]\n",
    );
    assert_eq!(
        config.outputs[0].schedule,
        [
            std::time::Duration::from_millis(250),
            std::time::Duration::from_secs(2),
            std::time::Duration::from_millis(1500)
        ]
    );
    let err = load(
        "[[output]]\nname = \"a\"\ntype = \"raw\"\nurl = \"http://127.0.0.1:1/\"\nretry_schedule_secs = [1, 1e9]\n",
    );
    assert!(err.contains("line 5") && err.contains("604800"), "{err}");
}

/// Every problem at once, in the order of the file, each on its line and naming outputs by
/// name; empty selections are refused (the output would never get an event).
#[test]
fn every_problem_is_reported_in_file_order() {
    let err = load(
        "[server]\nmax_connections = 0\n\
         [[output]]\nname = \"tools\"\ntype = \"raw\"\nurl = \"ftp://x\"\nevents = []\n\
         [[output]]\nname = \"chat\"\ntype = \"discord\"\nurl = \"https://discord.com/api/webhooks/1/t\"\nbroadcaster_user_ids = []\n\
         [storage]\nretention_days = 0\n",
    );
    let lines: Vec<&str> = err.lines().collect();
    assert!(lines[0].starts_with("5 problems in "), "{err}");
    let expected = [
        ("line 2:", "server.max_connections = 0"),
        ("line 6:", "output \"tools\" url"),
        (
            "line 7:",
            "output \"tools\" events: an empty list selects nothing",
        ),
        (
            "line 12:",
            "output \"chat\" broadcaster_user_ids: an empty list matches no channel",
        ),
        ("line 14:", "storage.retention_days = 0"),
    ];
    assert_eq!(lines.len(), 1 + expected.len(), "{err}");
    for (line, (at, what)) in lines[1..].iter().zip(expected) {
        assert!(
            line.contains(at) && line.contains(what),
            "{line:?} in:\n{err}"
        );
    }
}

/// A listener given by host name says what to write instead.
#[test]
fn a_host_name_as_listener_says_what_to_write() {
    let err = load("[server]\nlisten = \"localhost:3000\"\n");
    assert!(
        err.contains("line 2") && err.contains("write 127.0.0.1:3000"),
        "{err}"
    );
}
