//! Every address the app links or redirects to, built in one place. The settings page reads
//! the query parameters named here (`routes::settings`); the dialogs open from them, so a
//! redirect works the same with and without JavaScript.

pub const HOME: &str = "/";
pub const SIGNUP: &str = "/signup";
pub const LOGIN: &str = "/login";
/// The second step of a sign-in: the SMS code, or a recovery code (LG-1..LG-3).
pub const LOGIN_VERIFY: &str = "/login/verify";
/// The pages a person opens before signing in. They show no secret, so they may go out
/// compressed (BREACH, docs/security.md), and a first visit is likely to start on one, so
/// they carry the stylesheet in themselves (`server::page_assets`). A list of what may, not of
/// what may not: a new page is left out until someone decides.
pub const BEFORE_SIGN_IN: [&str; 4] = [HOME, LOGIN, SIGNUP, LOGIN_VERIFY];
/// The code page after a new code went out (LG-2).
pub const LOGIN_VERIFY_RESENT: &str = "/login/verify?resent=1";
/// The code page asking for a recovery code instead (LG-3).
pub const LOGIN_VERIFY_RECOVERY: &str = "/login/verify?method=recovery";
pub const SETTINGS: &str = "/settings";
pub const PASSWORD: &str = "/settings/password";

/// The phone number dialog (PH-1).
pub const PHONE_DIALOG: &str = "/settings?dialog=phone";
/// The recovery codes dialog (RC-2).
pub const RECOVERY_DIALOG: &str = "/settings?dialog=recovery";
/// The authenticator app dialog: QR code, key and the confirming code (MFA-1).
pub const APP_DIALOG: &str = "/settings?dialog=app";
/// The settings, saying that the authenticator app was set (MFA-1).
pub const APP_ADDED: &str = "/settings?app_added=1";
/// The settings, saying that the authenticator app was removed (MFA-1).
pub const APP_REMOVED: &str = "/settings?app_removed=1";
/// The settings, saying that a passkey was added, renamed or removed (MFA-2).
pub const PASSKEY_ADDED: &str = "/settings?passkey_added=1";
pub const PASSKEY_RENAMED: &str = "/settings?passkey_renamed=1";
pub const PASSKEY_REMOVED: &str = "/settings?passkey_removed=1";
/// The second step's other ways in (MFA-3): `別の方法を使う`.
pub const LOGIN_VERIFY_CHOOSE: &str = "/login/verify?method=choose";

/// The settings, saying that the switch was saved (TF-1).
pub const SETTINGS_SAVED: &str = "/settings?saved=1";
/// The settings, saying that the password was changed.
pub const PASSWORD_CHANGED: &str = "/settings?password_changed=1";
/// The phone dialog after a new code went out (PH-7).
pub const PHONE_DIALOG_RESENT: &str = "/settings?dialog=phone&resent=1";
/// The recovery dialog showing the codes of a set made now, with two-factor turned on.
pub const RECOVERY_DIALOG_NEW: &str = "/settings?dialog=recovery&new=1";
/// The recovery dialog showing the codes of a set that replaced the old one (RC-3).
pub const RECOVERY_DIALOG_REGENERATED: &str = "/settings?dialog=recovery&regenerated=1";

/// The phone dialog's last step: the number is verified, and two-factor is on if it was
/// asked for with it (PH-8).
pub fn phone_dialog_done(two_factor_on: bool) -> &'static str {
    if two_factor_on {
        "/settings?dialog=phone&done=1&two_factor=1"
    } else {
        "/settings?dialog=phone&done=1"
    }
}

/// The settings after a sign-in with a recovery code, saying how many codes are left (LG-3).
pub fn settings_recovery_left(left: i64) -> String {
    format!("/settings?recovery_left={left}")
}

/// Where the password prompt may send the browser back to: a page of the settings, given
/// as a path of printable ASCII without dot segments; anything else (another site,
/// `//host`, a backslash, `/settings/../login`, a control character, which would not even
/// make a `Location` header) gives the settings.
pub fn settings_return(then: &str) -> &str {
    let inside =
        then == SETTINGS || then.starts_with("/settings?") || then.starts_with("/settings/");
    if inside
        && !then.contains("//")
        && !then.contains('\\')
        && !then.contains("/.")
        && then.bytes().all(|b| b.is_ascii_graphic())
    {
        then
    } else {
        SETTINGS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prompt_returns_only_into_the_settings() {
        for inside in [
            SETTINGS,
            PHONE_DIALOG,
            RECOVERY_DIALOG,
            APP_DIALOG,
            PASSWORD,
        ] {
            assert_eq!(settings_return(inside), inside);
        }
        for outside in [
            "",
            "/",
            "https://evil.example/settings",
            "//evil.example/settings",
            "/settings//evil.example",
            "/settings\\..\\x",
            "/settings/../login",
            "/settings/./password",
            "/settings?dialog=phone\r\nSet-Cookie: x=1",
            "/settings?dialog=電話",
            "/login",
        ] {
            assert_eq!(settings_return(outside), SETTINGS, "{outside:?}");
        }
    }

    #[test]
    fn the_fixed_addresses_open_what_they_name() {
        assert!(PHONE_DIALOG_RESENT.starts_with(PHONE_DIALOG));
        assert!(phone_dialog_done(true).starts_with(PHONE_DIALOG));
        assert!(phone_dialog_done(false).starts_with(PHONE_DIALOG));
        assert!(RECOVERY_DIALOG_NEW.starts_with(RECOVERY_DIALOG));
        assert!(RECOVERY_DIALOG_REGENERATED.starts_with(RECOVERY_DIALOG));
        assert_eq!(settings_recovery_left(3), "/settings?recovery_left=3");
    }
}
