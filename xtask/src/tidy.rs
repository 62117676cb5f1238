//! Repository rules that no compiler checks: the crate floors of `docs/ARCHITECTURE.md`, a
//! README plus workspace lints in every crate, and no path that leaves the repository (a user's
//! clone has nothing beside it). Also runs as a test.

use std::{fs, path::Path, process::Command};

use serde_json::Value;

/// What each library crate may use among the workspace crates, and which external crates it
/// must never use (ARCHITECTURE.md's table). Crates not listed (relay-bin, relay-tests, xtask)
/// may use anything.
const FLOORS: &[(&str, &[&str], &[&str])] = &[
    (
        "kick-models",
        &[],
        &[
            "tokio",
            "reqwest",
            "hyper",
            "axum",
            "sqlx",
            "rsa",
            "sha2",
            "aws-lc-rs",
            "ring",
        ],
    ),
    (
        "kick-verify",
        &[],
        &[
            "tokio",
            "reqwest",
            "hyper",
            "http",
            "axum",
            "sqlx",
            "serde",
            "serde_json",
        ],
    ),
    ("kick-api", &["kick-models"], &["axum", "sqlx"]),
    (
        "kick-dispatch",
        &["kick-models"],
        &["reqwest", "hyper", "axum", "sqlx"],
    ),
    ("relay-sinks", &["kick-models"], &["axum", "sqlx"]),
    (
        "kick-webhook",
        &["kick-models", "kick-verify", "kick-api", "kick-dispatch"],
        &["sqlx"],
    ),
    // Every crate's tests use the test kit, so it stands on no workspace crate.
    ("kick-testkit", &[], &["sqlx", "reqwest"]),
];

/// Names of the workspace's own crates.
const WORKSPACE_CRATES: &[&str] = &[
    "kick-models",
    "kick-verify",
    "kick-api",
    "kick-dispatch",
    "relay-sinks",
    "kick-webhook",
    "relay-bin",
];

/// Checks every rule and reports all violations at once.
pub(crate) fn run(root: &Path) -> Result<(), String> {
    let metadata = cargo_metadata(root)?;
    let mut problems = check_floors(&metadata);
    problems.extend(check_crate_files(root));
    problems.extend(check_paths_stay_inside(root)?);
    problems.extend(crate::circles::check(root));
    if problems.is_empty() {
        println!("tidy: crate floors, READMEs, lints, paths and imports (no circles) are in order");
        Ok(())
    } else {
        Err(format!(
            "tidy found {} problem(s):\n  - {}",
            problems.len(),
            problems.join("\n  - ")
        ))
    }
}

fn cargo_metadata(root: &Path) -> Result<Value, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(root)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .output()
        .map_err(|err| format!("could not run cargo metadata: {err}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    serde_json::from_slice(&output.stdout).map_err(|err| format!("cargo metadata output: {err}"))
}

/// Every normal or build dependency of each floor crate against its row of [`FLOORS`].
fn check_floors(metadata: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let packages = metadata["packages"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    for (name, allowed_internal, forbidden) in FLOORS {
        let Some(package) = packages.iter().find(|p| p["name"] == *name) else {
            problems.push(format!("crate {name} is missing from the workspace"));
            continue;
        };
        let dependencies = package["dependencies"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        for dependency in dependencies {
            if dependency["kind"].as_str() == Some("dev") {
                continue;
            }
            let dep = dependency["name"].as_str().unwrap_or_default();
            if WORKSPACE_CRATES.contains(&dep) && !allowed_internal.contains(&dep) {
                problems.push(format!(
                    "{name} depends on {dep}, which is not on a floor below it \
                     (allowed: {allowed_internal:?}; see docs/ARCHITECTURE.md)"
                ));
            }
            if forbidden.contains(&dep) {
                problems.push(format!(
                    "{name} depends on {dep}, which ARCHITECTURE.md forbids for this crate"
                ));
            }
        }
    }
    problems
}

/// Each crate under `crates/` has a README (its crate docs) and takes the workspace lints.
fn check_crate_files(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for name in WORKSPACE_CRATES {
        let dir = root.join("crates").join(name);
        if !dir.join("README.md").is_file() {
            problems.push(format!("crates/{name} has no README.md"));
        }
        let manifest = fs::read_to_string(dir.join("Cargo.toml")).unwrap_or_default();
        if !manifest.contains("[lints]\nworkspace = true") {
            problems.push(format!(
                "crates/{name}/Cargo.toml lacks `[lints] workspace = true`"
            ));
        }
    }
    for extra in ["tests", "testkit", "bench", "xtask"] {
        let manifest = fs::read_to_string(root.join(extra).join("Cargo.toml")).unwrap_or_default();
        if !manifest.contains("[lints]\nworkspace = true") {
            problems.push(format!(
                "{extra}/Cargo.toml lacks `[lints] workspace = true`"
            ));
        }
    }
    problems
}

/// The folder beside the repository that the team reads for reference; a clone has no such
/// thing, so no tracked file may point into it. Spelled in two pieces so this file passes.
const OUTSIDE_FOLDER: &str = concat!("../", "shared");

/// No tracked text file names a path into the reference folder beside the repository.
fn check_paths_stay_inside(root: &Path) -> Result<Vec<String>, String> {
    let output = Command::new("git")
        .current_dir(root)
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .output()
        .map_err(|err| format!("could not run git ls-files: {err}"))?;
    if !output.status.success() {
        return Err(format!(
            "git ls-files failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let mut problems = Vec::new();
    for name in output.stdout.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let name = String::from_utf8_lossy(name);
        let Ok(text) = fs::read_to_string(root.join(name.as_ref())) else {
            continue; // binary, or deleted in the work tree
        };
        problems.extend(outside_references(&name, &text));
    }
    Ok(problems)
}

/// Each line of `text` that points outside the repository, as a problem naming file and line.
fn outside_references(name: &str, text: &str) -> Vec<String> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| line.contains(OUTSIDE_FOLDER))
        .map(|(n, _)| {
            format!(
                "{name}:{}: points at {OUTSIDE_FOLDER}, which a clone of the repository does not \
                 have; copy what is needed into the repository (fixtures/, bench/, docs/)",
                n + 1
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_workspace_is_tidy() {
        run(&crate::project_root()).unwrap();
    }

    fn metadata_with(crate_name: &str, dep: &str, kind: Option<&str>) -> Value {
        let packages: Vec<Value> = FLOORS
            .iter()
            .map(|(name, _, _)| {
                let deps = if *name == crate_name {
                    json!([{ "name": dep, "kind": kind }])
                } else {
                    json!([])
                };
                json!({ "name": name, "dependencies": deps })
            })
            .collect();
        json!({ "packages": packages })
    }

    #[test]
    fn an_upward_edge_is_reported() {
        let problems = check_floors(&metadata_with("kick-models", "kick-api", None));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("kick-models depends on kick-api"));
    }

    #[test]
    fn a_sideways_edge_is_reported() {
        let problems = check_floors(&metadata_with("relay-sinks", "kick-dispatch", None));
        assert_eq!(problems.len(), 1, "{problems:?}");
    }

    #[test]
    fn a_forbidden_external_crate_is_reported() {
        let problems = check_floors(&metadata_with("kick-verify", "tokio", Some("build")));
        assert!(
            problems[0].contains("kick-verify depends on tokio"),
            "{problems:?}"
        );
    }

    #[test]
    fn a_path_outside_the_repository_is_reported() {
        let text = format!("fine\nlet dir = root.join(\"{OUTSIDE_FOLDER}/kick/payloads\");\n");
        let problems = outside_references("tests/x.rs", &text);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("tests/x.rs:2: "), "{problems:?}");
        assert!(outside_references("README.md", "fixtures/kick/payloads\n").is_empty());
    }

    #[test]
    fn allowed_and_dev_edges_pass() {
        assert!(check_floors(&metadata_with("kick-api", "kick-models", None)).is_empty());
        assert!(check_floors(&metadata_with("kick-models", "tokio", Some("dev"))).is_empty());
    }
}
