//! Request and response types of Kick's public REST API and OAuth server (the `{data, message}`
//! envelope is unwrapped by the client, so these are the `data` parts).

mod channels;
mod chat;
mod drops;
mod livestreams;
mod misc;
mod rewards;
mod subscriptions;
mod tokens;

pub use self::{
    channels::{Channel, ChannelPatch, ChannelStream},
    chat::{ChatSend, ChatSenderType, ChatSent},
    drops::{DropClaim, DropClaimPage, DropClaimUpdate},
    livestreams::{
        Livestream, LivestreamBroadcaster, LivestreamChannel, LivestreamStats, UserLivestream,
    },
    misc::{
        ApiCategory, BanRequest, KicksLeaderboard, LeaderboardEntry, PublicKeyData, UnbanRequest,
        UserInfo,
    },
    rewards::{
        ChannelReward, Redeemer, Redemption, RedemptionFailure, RedemptionGroup, RedemptionReward,
        RewardCreate, RewardUpdate,
    },
    subscriptions::{EventSubscription, SubscribeEvent, SubscribeRequest, SubscribeResult},
    tokens::{Introspection, TokenResponse},
};

/// Reads `""` and `null` as `None` (Kick sends empty strings for absent values).
pub(crate) fn empty_as_none<'de, D: serde::Deserializer<'de>, T: From<String>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    let value: Option<String> = serde::Deserialize::deserialize(deserializer)?;
    Ok(value.filter(|s| !s.is_empty()).map(T::from))
}
