#![doc = include_str!("../README.md")]

mod dispatcher;
mod envelope;
pub mod events;
mod listener;
mod report;

pub use self::{
    dispatcher::{DispatchError, Dispatcher, ShutdownReport},
    envelope::Envelope,
    events::Event,
    listener::{ListenerId, ListenerOptions, ListenerOutput},
    report::{DispatchReport, ListenerOutcome, ListenerResult},
};
