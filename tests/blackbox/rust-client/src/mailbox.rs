//! Black-box proof support: the mails the server sent, read by `tests/blackbox/mailbox.py` —
//! the reader and the patterns every black-box proof uses — from the log that `server.py` names
//! in `ALLOMEDIA_LOG`.

use tokio::process::Command;

const READER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../mailbox.py");

/// How many mails went to `email` so far; later reads skip them.
pub async fn count(email: &str) -> Result<usize, String> {
    let printed = read(&["count", email]).await?;
    printed
        .parse()
        .map_err(|_| format!("mailbox.py count printed {printed:?}, not a number"))
}

/// The token of the verification link mailed to `email` after its first `after` mails.
pub async fn verification_token(email: &str, after: usize) -> Result<String, String> {
    read(&["verify-link", email, "--after", &after.to_string()]).await
}

/// The 6-digit sign-in code mailed to `email` after its first `after` mails.
pub async fn login_code(email: &str, after: usize) -> Result<String, String> {
    read(&["login-code", email, "--after", &after.to_string()]).await
}

async fn read(arguments: &[&str]) -> Result<String, String> {
    let done = Command::new("python3")
        .arg(READER)
        .args(arguments)
        .output()
        .await
        .map_err(|error| format!("cannot run python3 {READER}: {error}"))?;
    if !done.status.success() {
        return Err(format!(
            "mailbox.py {}: {}",
            arguments.join(" "),
            String::from_utf8_lossy(&done.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&done.stdout).trim().to_owned())
}
