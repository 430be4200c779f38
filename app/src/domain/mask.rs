//! Masking for logs (SEC-4): a log line may say which account or number an event concerns
//! closely enough to debug, never closely enough to be a leak.

/// `taro@example.com` → `t***@example.com`. Only the first character of the local part
/// and the domain stay (crates.io's mailer keeps only the domain, for the same reason).
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_email_local_part() {
        assert_eq!(mask_email("taro@example.com"), "t***@example.com");
        assert_eq!(mask_email("broken"), "***");
    }
}
