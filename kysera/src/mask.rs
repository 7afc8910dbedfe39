//! Password masking for every text that may quote a database URL: messages, logs, CLI
//! output. At the bottom of the crate, so errors can mask what they quote.

/// Replaces the password of a URL (`scheme://user:password@host`) and any `password=` query
/// parameter with `***`. Text that is not a URL is returned unchanged.
///
/// ```
/// use kysera::mask_password;
/// assert_eq!(mask_password("mysql://root:hunter2@db/app"), "mysql://root:***@db/app");
/// assert_eq!(mask_password("postgres://u@h/d?password=x&sslmode=require"),
///            "postgres://u@h/d?password=***&sslmode=require");
/// ```
pub fn mask_password(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    // Mask every `://user:pass@` occurrence, so a message quoting a URL is masked too.
    while let Some(pos) = rest.find("://") {
        let (head, tail) = rest.split_at(pos + 3);
        out.push_str(head);
        let authority_end = tail
            .find(['/', '?', '#', ' ', '\'', '"'])
            .unwrap_or(tail.len());
        let authority = &tail[..authority_end];
        match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                match userinfo.find(':') {
                    Some(colon) => {
                        out.push_str(&userinfo[..colon]);
                        out.push_str(":***");
                    }
                    None => out.push_str(userinfo),
                }
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[authority_end..];
    }
    out.push_str(rest);
    mask_password_params(&out)
}

fn mask_password_params(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.to_ascii_lowercase().find("password=") {
        let (head, tail) = rest.split_at(pos + "password=".len());
        out.push_str(head);
        out.push_str("***");
        let end = tail.find(['&', ' ', '#', '\'', '"']).unwrap_or(tail.len());
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}
