//! `Api`: the endpoints, bound to one kind of token.

use std::fmt;

use crate::{KickClient, UserSession, transport::Auth};

/// The REST endpoints, called with the app token ([`KickClient::app`]) or as a user
/// ([`KickClient::user`]). Cheap to copy.
#[derive(Clone, Copy)]
pub struct Api<'a> {
    pub(crate) client: &'a KickClient,
    pub(crate) auth: Auth<'a>,
}

impl fmt::Debug for Api<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let auth = match self.auth {
            Auth::None => "none",
            Auth::App => "app",
            Auth::User(_) => "user",
            Auth::Bearer(_) => "bearer",
        };
        f.debug_struct("Api")
            .field("auth", &auth)
            .finish_non_exhaustive()
    }
}

impl KickClient {
    /// Endpoints called with the app access token (client credentials; fetched on first need,
    /// cached in memory, refreshed before expiry and once after a 401).
    pub fn app(&self) -> Api<'_> {
        Api {
            client: self,
            auth: Auth::App,
        }
    }

    /// Endpoints called as the user whose tokens `session` holds.
    pub fn user<'a>(&'a self, session: &'a UserSession) -> Api<'a> {
        Api {
            client: self,
            auth: Auth::User(session),
        }
    }
}
