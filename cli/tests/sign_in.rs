//! `login`, `logout`, `--token` and `IMAGE_API_TOKEN` against the server `scripts/test-cli.sh`
//! starts in COGNITO mode (IMAGE_API_TEST_COGNITO_URL), with a user pool on moto
//! (IMAGE_API_TEST_COGNITO: pool, client and the passwords of alice and bob).

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

struct Setup {
    url: String,
    pool: String,
    client: String,
    passwords: Value,
    cognito: String,
}

fn setup() -> Setup {
    let var = |name: &str| {
        std::env::var(name)
            .unwrap_or_else(|_| panic!("{name} is not set: run through scripts/test-cli.sh"))
    };
    let cognito: Value = serde_json::from_str(&var("IMAGE_API_TEST_COGNITO")).unwrap();
    Setup {
        url: var("IMAGE_API_TEST_COGNITO_URL"),
        pool: cognito["pool_id"].as_str().unwrap().to_owned(),
        client: cognito["client_id"].as_str().unwrap().to_owned(),
        passwords: cognito["users"].clone(),
        cognito: var("MOTO_ENDPOINT"),
    }
}

/// The CLI with its own config directory, `stdin` as its input, and `env` set.
fn cli(setup: &Setup, config: &Path, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_image-api-cli"))
        .args(args)
        .env("IMAGE_API_URL", &setup.url)
        .env("XDG_CONFIG_HOME", config)
        .env_remove("IMAGE_API_KEY")
        .env_remove("IMAGE_API_TOKEN")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the CLI runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `login` with `lines` on stdin: the password (then, for a temporary one, the new password).
fn login(setup: &Setup, config: &Path, user: &str, lines: &str) -> Output {
    let args = [
        "login",
        "--user-pool-id",
        &setup.pool,
        "--client-id",
        &setup.client,
        "--username",
        user,
        "--cognito-endpoint",
        &setup.cognito,
        "--password-stdin",
    ];
    cli(setup, config, &args, &format!("{lines}\n"), &[])
}

fn listed(output: &Output) -> Vec<String> {
    assert!(output.status.success(), "{}", text(&output.stderr));
    text(&output.stdout)
        .lines()
        .map(|line| {
            serde_json::from_str::<Value>(line).unwrap()["file_name"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

/// A fresh directory, removed with everything in it when the guard is dropped (a test
/// shadows the guard with its path, which keeps it alive to the test's end).
fn tempdir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("image-api-cli-{name}-"))
        .tempdir()
        .unwrap()
}

#[test]
fn login_keeps_a_private_refresh_token_renews_access_and_logs_out() {
    let setup = setup();
    let config = tempdir("login-config");
    let config = config.path();
    let password = setup.passwords["alice"].as_str().unwrap();

    // Not signed in: the API's 401, said plainly.
    let refused = cli(&setup, config, &["list"], "", &[]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stderr).contains("(401)"),
        "{}",
        text(&refused.stderr)
    );

    let wrong = login(&setup, config, "alice", "not-her-password");
    assert_eq!(wrong.status.code(), Some(1));
    assert!(
        text(&wrong.stderr).contains("Incorrect username or password"),
        "{}",
        text(&wrong.stderr)
    );
    let signed_in = login(&setup, config, "alice", password);
    assert!(signed_in.status.success(), "{}", text(&signed_in.stderr));

    // Kept where only its owner reads it, with the refresh token and never the password.
    let store = config.join("image-api/credentials.json");
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&store), 0o600);
    assert_eq!(mode(store.parent().unwrap()), 0o700);
    let kept = std::fs::read_to_string(&store).unwrap();
    assert!(!kept.contains(password));
    let logins: Value = serde_json::from_str(&kept).unwrap();
    let api = setup.url.trim_end_matches('/');
    assert!(
        logins[api]["refresh_token"]
            .as_str()
            .is_some_and(|t| !t.is_empty()),
        "{kept}"
    );

    let folder = tempdir("login-files");
    let folder = folder.path();
    let picture = {
        let image = image::RgbImage::from_fn(30, 20, |x, y| image::Rgb([x as u8, y as u8, 9]));
        let mut out = std::io::Cursor::new(Vec::new());
        image.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    };
    std::fs::write(folder.join("alice.png"), &picture).unwrap();
    let uploaded = cli(
        &setup,
        config,
        &["upload", folder.join("alice.png").to_str().unwrap()],
        "",
        &[],
    );
    assert!(uploaded.status.success(), "{}", text(&uploaded.stderr));
    assert_eq!(
        listed(&cli(&setup, config, &["list", "--json"], "", &[])),
        ["alice.png"]
    );

    // bob, by token (flag or variable): none of alice's.
    let bob = bob_token(&setup);
    let by_flag = cli(
        &setup,
        config,
        &["--token", &bob, "list", "--json"],
        "",
        &[],
    );
    assert!(listed(&by_flag).is_empty());
    let by_variable = cli(
        &setup,
        config,
        &["list", "--json"],
        "",
        &[("IMAGE_API_TOKEN", &bob)],
    );
    assert!(listed(&by_variable).is_empty());

    // An access token at its end is renewed with the refresh token, and kept.
    let mut stale = logins.clone();
    stale[api]["access_token"] = "stale".into();
    stale[api]["expires_at"] = 0.into();
    std::fs::write(&store, serde_json::to_vec(&stale).unwrap()).unwrap();
    assert_eq!(
        listed(&cli(&setup, config, &["list", "--json"], "", &[])),
        ["alice.png"]
    );
    let renewed: Value = serde_json::from_slice(&std::fs::read(&store).unwrap()).unwrap();
    let access = renewed[api]["access_token"].as_str().unwrap();
    assert!(access != "stale" && renewed[api]["expires_at"].as_u64().unwrap() > 0);
    assert_eq!(mode(&store), 0o600);

    let out = cli(&setup, config, &["logout"], "", &[]);
    assert!(out.status.success());
    let after: Value = serde_json::from_slice(&std::fs::read(&store).unwrap()).unwrap();
    assert!(after.get(api).is_none(), "{after}");
    assert_eq!(
        cli(&setup, config, &["list"], "", &[]).status.code(),
        Some(1)
    );
}

#[test]
fn a_temporary_password_is_replaced_at_the_first_login() {
    let setup = setup();
    let config = tempdir("carol-config");
    let config = config.path();
    let store = config.join("image-api/credentials.json");
    let temporary = setup.passwords["carol"].as_str().unwrap();

    // Cognito asks for a new password; without one on stdin, a clear refusal and nothing kept.
    let unanswered = login(&setup, config, "carol", temporary);
    assert_eq!(unanswered.status.code(), Some(1));
    assert!(
        text(&unanswered.stderr).contains("stdin ended before a new password"),
        "{}",
        text(&unanswered.stderr)
    );
    assert!(!store.exists());

    let chosen = "Chosen-Pw-1234a";
    let first = login(&setup, config, "carol", &format!("{temporary}\n{chosen}"));
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert!(store.exists());
    assert_eq!(
        listed(&cli(&setup, config, &["list", "--json"], "", &[])),
        Vec::<String>::new()
    );

    // The chosen password signs in with no challenge (one line is enough); the temporary one
    // is spent.
    let again = login(&setup, config, "carol", chosen);
    assert!(again.status.success(), "{}", text(&again.stderr));
    let spent = login(&setup, config, "carol", temporary);
    assert_eq!(spent.status.code(), Some(1));
    assert!(
        text(&spent.stderr).contains("Cognito refused"),
        "{}",
        text(&spent.stderr)
    );
}

/// bob's access token, from a login of his own (in a config directory of his own).
fn bob_token(setup: &Setup) -> String {
    let config = tempdir("bob-config");
    let config = config.path();
    let bob = login(
        setup,
        config,
        "bob",
        setup.passwords["bob"].as_str().unwrap(),
    );
    assert!(bob.status.success(), "{}", text(&bob.stderr));
    let kept: Value =
        serde_json::from_slice(&std::fs::read(config.join("image-api/credentials.json")).unwrap())
            .unwrap();
    kept[setup.url.trim_end_matches('/')]["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}
