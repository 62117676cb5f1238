//! The relay's end-to-end tests and the harness they share: [`TestRelay`], a real relay
//! in-process on a real SQLite file (or PostgreSQL). Everything that does not need the relay
//! (the signer, stand-ins, ports, PostgreSQL) is kick-testkit's, re-exported here.

mod test_relay;

pub use kick_testkit::{
    DiscordStandIn, FakeKickApi, KickSigner, OTHER_PUBLIC_PEM, PgCluster, Posted, Received, Reply,
    StandIn, Subscription, TEST_PRIVATE_PEM, TEST_PUBLIC_PEM, discord, eventually,
    eventually_async, free_port, now_rfc3339, rfc3339_ago,
};

pub use self::test_relay::{TestClock, TestRelay, metric};
