//! Users as Kick's events carry them: the full and the compact shape, identity, badges, gifters.

use serde::{Deserialize, Deserializer, Serialize, Serializer, ser::SerializeStruct};

use crate::UserId;

/// A user in an event (`broadcaster`, `sender`, `follower`, `subscriber`, `giftees[]`,
/// `moderator`, `banned_user`, `redeemer`, `replies_to.sender`).
///
/// Kick uses two shapes. The *full* shape carries `is_anonymous` and `identity` (often `null`);
/// the *compact* shape (`kicks.gifted`, reward redemptions) has neither key. Both parse into this
/// struct; a user parsed from the full shape (`is_anonymous` present) serialises with
/// `identity` written out, `null` included, and a compact one without, so payloads round-trip.
///
/// `is_verified` has been seen `null` and `profile_picture` `""` in real deliveries.
#[derive(Clone, Debug, Deserialize, Eq, Hash, PartialEq)]
pub struct User {
    /// Present (usually `false`) in the full shape, absent in the compact shape.
    #[serde(default)]
    pub is_anonymous: Option<bool>,
    /// The user's id.
    pub user_id: UserId,
    /// Display name.
    pub username: String,
    /// Verified badge; `None` when Kick sent `null`.
    #[serde(default)]
    pub is_verified: Option<bool>,
    /// Avatar URL; may be empty. `None` when Kick sent `null` or nothing.
    #[serde(default)]
    pub profile_picture: Option<String>,
    /// The channel slug: the user's page is `https://kick.com/{channel_slug}`.
    pub channel_slug: String,
    /// Colour and badges; only chat senders have one (`null` elsewhere).
    #[serde(default)]
    pub identity: Option<Identity>,
}

impl User {
    /// `true` when this user came in the full shape (with `is_anonymous`).
    pub const fn is_full_shape(&self) -> bool {
        self.is_anonymous.is_some()
    }

    /// The avatar URL when Kick gave a non-empty one.
    pub fn avatar_url(&self) -> Option<&str> {
        self.profile_picture
            .as_deref()
            .filter(|url| !url.is_empty())
    }

    /// `https://kick.com/{channel_slug}`.
    pub fn channel_url(&self) -> String {
        crate::channel_url(&self.channel_slug)
    }
}

impl Serialize for User {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let full = self.is_full_shape();
        let mut out = serializer.serialize_struct("User", if full { 7 } else { 5 })?;
        if let Some(is_anonymous) = self.is_anonymous {
            out.serialize_field("is_anonymous", &is_anonymous)?;
        }
        out.serialize_field("user_id", &self.user_id)?;
        out.serialize_field("username", &self.username)?;
        out.serialize_field("is_verified", &self.is_verified)?;
        out.serialize_field("profile_picture", &self.profile_picture)?;
        out.serialize_field("channel_slug", &self.channel_slug)?;
        if full || self.identity.is_some() {
            out.serialize_field("identity", &self.identity)?;
        }
        out.end()
    }
}

/// A chat sender's look: name colour and badges.
#[derive(Clone, Debug, Deserialize, Eq, Hash, PartialEq, Serialize)]
pub struct Identity {
    /// `#RRGGBB`, when Kick sends one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username_color: Option<String>,
    /// Badges in Kick's order; empty when none (also when Kick sent `null`).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub badges: Vec<Badge>,
}

/// A chat badge such as `{"text": "Subscriber", "type": "subscriber", "count": 3}`.
#[derive(Clone, Debug, Deserialize, Eq, Hash, PartialEq, Serialize)]
pub struct Badge {
    /// Display text, e.g. `Moderator`.
    pub text: String,
    /// Kind, e.g. `moderator`, `subscriber`, `sub_gifter`, `broadcaster`, `og`, `vip`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Months or gifts for counted badges; absent on others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
}

/// The sender of gifted subscriptions: a user, or anonymous.
///
/// Kick marks an anonymous gifter with `is_anonymous: true` and `null` in every other field; a
/// missing or `null` gifter is read as anonymous too. A gift flagged `is_anonymous: false` with
/// full details (a known Kick bug) is simply a [`Gifter::User`].
#[derive(Clone, Debug, Default, Eq, Hash, PartialEq)]
pub enum Gifter {
    /// The gifter chose to stay anonymous.
    #[default]
    Anonymous,
    /// A known gifter.
    User(User),
}

impl Gifter {
    /// The gifter, unless anonymous.
    pub const fn user(&self) -> Option<&User> {
        match self {
            Self::Anonymous => None,
            Self::User(user) => Some(user),
        }
    }
}

/// Every field of a gifter as it may arrive, all optional, to tell anonymous from known.
#[derive(Deserialize)]
struct LooseUser {
    #[serde(default)]
    is_anonymous: Option<bool>,
    #[serde(default)]
    user_id: Option<UserId>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    is_verified: Option<bool>,
    #[serde(default)]
    profile_picture: Option<String>,
    #[serde(default)]
    channel_slug: Option<String>,
    #[serde(default)]
    identity: Option<Identity>,
}

impl<'de> Deserialize<'de> for Gifter {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let Some(loose) = Option::<LooseUser>::deserialize(deserializer)? else {
            return Ok(Self::Anonymous);
        };
        match (
            loose.is_anonymous,
            loose.user_id,
            loose.username,
            loose.channel_slug,
        ) {
            (Some(true), ..) | (_, None, _, _) => Ok(Self::Anonymous),
            (is_anonymous, Some(user_id), Some(username), Some(channel_slug)) => {
                Ok(Self::User(User {
                    is_anonymous,
                    user_id,
                    username,
                    is_verified: loose.is_verified,
                    profile_picture: loose.profile_picture,
                    channel_slug,
                    identity: loose.identity,
                }))
            }
            (_, Some(_), None, _) => Err(serde::de::Error::missing_field("username")),
            (_, Some(_), Some(_), None) => Err(serde::de::Error::missing_field("channel_slug")),
        }
    }
}

impl Serialize for Gifter {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::User(user) => user.serialize(serializer),
            Self::Anonymous => {
                let mut out = serializer.serialize_struct("User", 7)?;
                out.serialize_field("is_anonymous", &true)?;
                for field in [
                    "user_id",
                    "username",
                    "is_verified",
                    "profile_picture",
                    "channel_slug",
                    "identity",
                ] {
                    out.serialize_field(field, &())?;
                }
                out.end()
            }
        }
    }
}

/// Reads `null` as an empty list.
fn null_as_empty<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}
