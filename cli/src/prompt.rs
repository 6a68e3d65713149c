//! What `login` asks the person at the terminal (or reads from stdin).

use crate::client::Failure;

/// Cognito's API in the region a user pool id names (`{region}_{id}`).
pub fn cognito_endpoint_of(user_pool_id: &str) -> Result<String, Failure> {
    user_pool_id
        .split_once('_')
        .map(|(region, _)| region)
        .filter(|region| !region.is_empty())
        .map(|region| format!("https://cognito-idp.{region}.amazonaws.com"))
        .ok_or_else(|| {
            Failure::new(format!(
                "{user_pool_id:?} is not a user pool id (region_id)"
            ))
        })
}

/// The password, asked for without echo, or the first line of stdin.
pub fn password(username: &str, from_stdin: bool) -> Result<String, Failure> {
    if from_stdin {
        return stdin_line("the password");
    }
    rpassword::prompt_password(format!("Password for {username}: ")).map_err(unreadable)
}

/// The password that replaces a temporary one: asked for twice without echo, or the next line
/// of stdin.
pub fn new_password(username: &str, from_stdin: bool) -> Result<String, Failure> {
    if from_stdin {
        return stdin_line("a new password (the password is temporary)");
    }
    eprintln!("{username}'s password is temporary: choose a new one.");
    let first = rpassword::prompt_password("New password: ").map_err(unreadable)?;
    let again = rpassword::prompt_password("New password again: ").map_err(unreadable)?;
    if first != again {
        return Err(Failure::new("the two new passwords differ"));
    }
    Ok(first)
}

/// The next line of stdin, without its line ending; `what` names it if there is none.
fn stdin_line(what: &str) -> Result<String, Failure> {
    let mut line = String::new();
    if std::io::stdin().read_line(&mut line).map_err(unreadable)? == 0 {
        return Err(Failure::new(format!("stdin ended before {what}")));
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

fn unreadable(e: std::io::Error) -> Failure {
    Failure::new(format!("cannot read the password: {e}"))
}
