//! The command line, run as a user runs it: the real binary, its exit status and messages.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn allomedia(args: &[&str], env: &[(&str, &str)], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_allomedia"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        // A `.env` in the working directory must not leak into the test.
        .current_dir(env!("CARGO_TARGET_TMPDIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn create_manager(database_url: &str, email: &str, password: &str) -> Output {
    allomedia(
        &[
            "create-manager",
            "--name",
            "Salma",
            "--email",
            email,
            "--password-stdin",
        ],
        &[("DATABASE_URL", database_url)],
        &format!("{password}\n"),
    )
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn create_manager_makes_one_manager_per_email_and_explains_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}", dir.path().join("cli.db").display());

    let created = create_manager(
        &database_url,
        "salma@example.com",
        "a long manager passphrase",
    );
    let again = create_manager(
        &database_url,
        "SALMA@example.com",
        "a long manager passphrase",
    );
    let weak = create_manager(&database_url, "other@example.com", "password");
    let in_memory = create_manager(
        "memory://",
        "salma@example.com",
        "a long manager passphrase",
    );
    let no_password = create_manager(&database_url, "third@example.com", "");

    assert!(created.status.success(), "{}", stderr(&created));
    assert!(String::from_utf8_lossy(&created.stdout).contains("salma@example.com"));
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );
    assert!(!weak.status.success());
    assert!(stderr(&weak).contains("password"), "{}", stderr(&weak));
    assert!(!in_memory.status.success());
    assert!(
        stderr(&in_memory).contains("memory://"),
        "{}",
        stderr(&in_memory)
    );
    assert!(!no_password.status.success());
}

#[test]
fn an_invalid_setting_stops_start_up_naming_the_variable() {
    let output = allomedia(&["serve"], &[("HTTP_ADDR", "not-an-address")], "");

    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("HTTP_ADDR"), "{}", stderr(&output));
}

#[test]
fn openapi_prints_the_committed_spec_in_yaml_and_json() {
    let yaml = allomedia(&["openapi"], &[], "");
    let json = allomedia(&["openapi", "--json"], &[], "");

    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.yaml"))
            .unwrap();
    assert!(yaml.status.success() && json.status.success());
    assert!(String::from_utf8(yaml.stdout).unwrap() == committed);
    let parsed: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(parsed["info"]["title"], "allomedia");
}
