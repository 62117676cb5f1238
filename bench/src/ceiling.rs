//! The ceiling: the least a receiver must do (read headers, verify with the fast backend,
//! answer 200). kick-relay's ingest is measured against it.

use std::{net::SocketAddr, path::Path, sync::Arc};

use anyhow::Context;
use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    routing::post,
};
use kick_verify::{PublicKey, SignedMessage};

async fn verify(State(key): State<Arc<PublicKey>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(message_id), Some(timestamp), Some(signature)) = (
        get("kick-event-message-id"),
        get("kick-event-message-timestamp"),
        get("kick-event-signature"),
    ) else {
        return StatusCode::BAD_REQUEST;
    };
    let signed = SignedMessage {
        message_id,
        timestamp,
        body: &body,
        signature_b64: signature,
    };
    if key.verify(&signed).is_ok() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    }
}

/// Serves until killed.
///
/// # Errors
/// A key or address problem.
pub(crate) async fn serve(listen: SocketAddr, key: &Path, path: &str) -> anyhow::Result<()> {
    let pem = std::fs::read_to_string(key).with_context(|| format!("read {}", key.display()))?;
    let key = Arc::new(PublicKey::from_pem(&pem)?);
    let app = Router::new().route(path, post(verify)).with_state(key);
    let listener = tokio::net::TcpListener::bind(listen).await?;
    println!("ready");
    axum::serve(listener, app).await?;
    Ok(())
}
