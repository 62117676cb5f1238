//! `kick-relay healthcheck`: asks a running relay's admin listener whether it is ready
//! (`/readyz`: the database takes a write, the key is loaded) and exits 0 if so, 1 with the
//! reason if not. For a container's `HEALTHCHECK`, a systemd `ExecStartPost`, a script.

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    path::Path,
    process::ExitCode,
    time::Duration,
};

use anyhow::bail;

use crate::config::{Config, ConfigProblem};

/// Asks `url`, or the `/readyz` of the admin listener of the config at `config`; prints the
/// answer on stdout when ready, the reason on stderr when not.
///
/// # Errors
/// A configuration that cannot be read, an admin listener on port 0 (no address to ask), or
/// a `--url` that is not an `http://` URL.
pub(super) async fn healthcheck(
    config: Option<&Path>,
    url: Option<&str>,
    timeout: Duration,
) -> anyhow::Result<ExitCode> {
    let url = if let Some(url) = url {
        if !url.starts_with("http://") && !url.starts_with("https://") {
            bail!(ConfigProblem(format!(
                "--url {url:?} is not an http:// URL: give the admin listener's /readyz, e.g. http://127.0.0.1:9091/readyz"
            )));
        }
        url.to_owned()
    } else {
        let (config, _) = Config::load(config)?;
        readyz_url(config.admin.listen)?
    };
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .no_proxy()
        .build()?;
    match client.get(&url).send().await {
        Ok(response) => {
            let status = response.status();
            let text = response.text().await.unwrap_or_default();
            let text = text.trim();
            if status.is_success() {
                println!("{text}");
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("kick-relay healthcheck: {url} answered {status}: {text}");
                Ok(ExitCode::FAILURE)
            }
        }
        Err(err) => {
            let why = if err.is_timeout() {
                format!("no answer within {} s", timeout.as_secs_f32())
            } else if err.is_connect() {
                "nothing listens there (is `kick-relay serve` running with this configuration?)"
                    .to_owned()
            } else {
                err.to_string()
            };
            eprintln!("kick-relay healthcheck: cannot ask {url}: {why}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// The `/readyz` URL of an admin listener on `listen`: a listener on every address is asked
/// on loopback.
fn readyz_url(listen: SocketAddr) -> anyhow::Result<String> {
    if listen.port() == 0 {
        bail!(ConfigProblem(format!(
            "admin.listen = {listen} has port 0 (any free port): there is no address to ask; pass --url with the port the relay took"
        )));
    }
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    Ok(format!(
        "http://{}/readyz",
        SocketAddr::new(ip, listen.port())
    ))
}

#[cfg(test)]
mod tests {
    use super::readyz_url;

    #[test]
    fn a_listener_on_every_address_is_asked_on_loopback() {
        assert_eq!(
            readyz_url("0.0.0.0:9091".parse().unwrap()).unwrap(),
            "http://127.0.0.1:9091/readyz"
        );
        assert_eq!(
            readyz_url("[::]:9091".parse().unwrap()).unwrap(),
            "http://[::1]:9091/readyz"
        );
        assert_eq!(
            readyz_url("192.168.1.5:9091".parse().unwrap()).unwrap(),
            "http://192.168.1.5:9091/readyz"
        );
        let err = readyz_url("127.0.0.1:0".parse().unwrap()).unwrap_err();
        assert!(err.to_string().contains("port 0"), "{err}");
    }
}
