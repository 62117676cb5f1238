#![doc = include_str!("../README.md")]

mod api;
mod client;
mod endpoints;
mod error;
mod oauth;
mod pages;
mod retry;
mod scope;
mod secret;
mod token;
mod transport;

pub use self::{
    api::Api,
    client::{KickClient, KickClientBuilder},
    endpoints::{CategoryQuery, DropClaimQuery, LivestreamQuery, RedemptionQuery},
    error::{ApiError, ApiErrorKind},
    oauth::{AuthorizationRequest, TokenHint},
    pages::Pages,
    retry::RetryPolicy,
    scope::Scope,
    secret::Secret,
    token::{MemoryTokenStore, TokenStore, UserSession, UserToken},
};
