//! Property tests for every parser of outside input (issue 10): phone numbers, email
//! addresses, one-time codes, recovery codes, the cookies and the proxy's forwarding header.
//! For each: no input makes it panic, and what it accepts reads back the same (it
//! round-trips), while inputs built the way people and proxies write them are accepted.
//!
//! The normal test run tries a few thousand cases per property; `scripts/test.sh props`
//! tries a million (`PROPTEST_CASES` sets any other number).
#![cfg(feature = "ssr")]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use proptest::prelude::*;

use app::domain::recovery::{ALPHABET, LEN};
use app::domain::{Email, OtpCode, PhoneNumber, RecoveryCode};
use app::server::cookies::{self, BrowserToken, DeviceToken};
use app::server::{ProxyHeader, TrustedProxies};

/// Cases per property: `PROPTEST_CASES`, else a few thousand.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    ProptestConfig {
        cases,
        // A million cases reject none; shrinking a failure keeps its usual budget.
        ..ProptestConfig::default()
    }
}

/// Any string, weighted towards the characters these parsers care about.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9０-９a-zA-Zａ-ｚ@.+\\-ー−‐―–—－_ 　()（）\\[\\]:;,=\"%\u{0}\u{130}\u{212a}]{0,40}",
    ]
}

/// A digit as a person might type it: ASCII or full-width.
fn typed_digit(d: char, full_width: bool) -> char {
    if full_width {
        char::from_u32(d as u32 - '0' as u32 + '０' as u32).unwrap_or(d)
    } else {
        d
    }
}

// ---------------------------------------------------------------------------------------
// Phone numbers (PH-3)

proptest! {
    #![proptest_config(config())]

    #[test]
    fn phone_parsing_never_panics_and_what_it_accepts_reads_back(s in text()) {
        if let Ok(p) = PhoneNumber::parse(&s) {
            prop_assert!(p.e164().starts_with("+81"));
            prop_assert_eq!(PhoneNumber::parse(p.e164()), Ok(p.clone()));
            prop_assert_eq!(PhoneNumber::parse(p.national()), Ok(p.clone()));
        }
    }

    /// 070/080/090 numbers, typed with or without hyphens, spaces or +81, in full-width or
    /// mixed digits, with any of the dashes a Japanese IME produces.
    #[test]
    fn mobile_numbers_are_read_however_they_are_typed(
        carrier in prop::sample::select(vec!['7', '8', '9']),
        third in prop::sample::select(vec!['1', '2', '3', '4', '5', '6', '7', '8', '9']),
        rest in "[0-9]{7}",
        widths in prop::collection::vec(any::<bool>(), 11),
        dash in prop::sample::select(vec!["-", "ー", "−", "‐", "―", "－", " ", "　", ""]),
        international in any::<bool>(),
        padding in prop::sample::select(vec!["", " ", "　", "\t"]),
    ) {
        let national = format!("0{carrier}0{third}{rest}");
        let digits: Vec<char> = national
            .chars()
            .zip(&widths)
            .map(|(d, w)| typed_digit(d, *w))
            .collect();
        let group = |r: std::ops::Range<usize>| digits[r].iter().collect::<String>();
        let typed = if international {
            format!("{padding}+81{dash}{}{dash}{}{dash}{}{padding}", group(1..3), group(3..7), group(7..11))
        } else {
            format!("{padding}{}{dash}{}{dash}{}{padding}", group(0..3), group(3..7), group(7..11))
        };
        let p = PhoneNumber::parse(&typed);
        prop_assert!(p.is_ok(), "{:?}: {:?}", typed, p);
        let p = p.unwrap();
        prop_assert_eq!(p.e164(), format!("+81{}", &national[1..]));
        prop_assert_eq!(p.national(), format!("0{carrier}0-{}-{}", &national[3..7], &national[7..]));
    }
}

// ---------------------------------------------------------------------------------------
// Email addresses

proptest! {
    #![proptest_config(config())]

    #[test]
    fn email_parsing_never_panics_and_normalising_is_stable(s in prop_oneof![
        text(),
        "[a-zA-Z0-9.+_İK\u{212a}-]{1,70}@[a-zA-Z0-9.İ-]{1,200}",
        "[a-zA-Zİ]{1,64}@[a-zİ]{1,180}\\.jp",
        // Near the length limit, with letters that lengthen when lowercased.
        "[a-zİ]{15,22}@[a-zȺ]{150,200}\\.jp",
    ]) {
        if let Ok(e) = Email::parse(&s) {
            prop_assert!(e.as_str().len() <= app::domain::email::MAX_LEN);
            prop_assert_eq!(e.as_str().matches('@').count(), 1);
            prop_assert_eq!(e.as_str().to_lowercase(), e.as_str());
            prop_assert_eq!(Email::parse(e.as_str()), Ok(e.clone()));
        }
    }

    #[test]
    fn ordinary_addresses_are_kept_lowercased(
        local in "[a-zA-Z0-9]{1,20}([._+-][a-zA-Z0-9]{1,10})?",
        domain in "[a-zA-Z0-9]{1,20}(-[a-z0-9]{1,5})?",
        tld in prop::sample::select(vec!["jp", "co.jp", "com", "ne.jp"]),
        padding in prop::sample::select(vec!["", " ", "\t", " \n"]),
    ) {
        let typed = format!("{padding}{local}@{domain}.{tld}{padding}");
        let e = Email::parse(&typed);
        prop_assert!(e.is_ok(), "{:?}: {:?}", typed, e);
        let e = e.unwrap();
        prop_assert_eq!(e.as_str(), typed.trim().to_lowercase());
    }
}

// ---------------------------------------------------------------------------------------
// One-time codes (PH-5) and recovery codes (RC-4)

proptest! {
    #![proptest_config(config())]

    #[test]
    fn code_parsing_never_panics_and_what_it_accepts_reads_back(s in text()) {
        if let Ok(c) = OtpCode::parse(&s) {
            prop_assert_eq!(c.as_str().len(), 6);
            prop_assert!(c.as_str().bytes().all(|b| b.is_ascii_digit()));
            prop_assert_eq!(OtpCode::parse(c.as_str()), Ok(c.clone()));
        }
        if let Ok(c) = RecoveryCode::parse(&s) {
            prop_assert_eq!(c.as_str().len(), LEN);
            prop_assert!(c.as_str().bytes().all(|b| ALPHABET.contains(&b)));
            prop_assert_eq!(RecoveryCode::parse(c.as_str()), Ok(c.clone()));
            prop_assert_eq!(RecoveryCode::parse(&c.display()), Ok(c.clone()));
        }
    }

    #[test]
    fn sent_codes_are_read_however_they_are_typed(
        n in 0u32..1_000_000,
        widths in prop::collection::vec(any::<bool>(), 6),
        gaps in prop::collection::vec(prop::sample::select(vec!["", "", "", " ", "　", "-", "ー", "－"]), 7),
    ) {
        let code = OtpCode::from_number(n);
        let mut typed = String::from(gaps[0]);
        for (i, d) in code.as_str().chars().enumerate() {
            typed.push(typed_digit(d, widths[i]));
            typed.push_str(gaps[i + 1]);
        }
        prop_assert_eq!(OtpCode::parse(&typed), Ok(code));
    }

    #[test]
    fn recovery_codes_are_read_however_they_are_typed(
        indices in prop::array::uniform10(0u8..31),
        upper in prop::collection::vec(any::<bool>(), LEN),
        full_width in prop::collection::vec(any::<bool>(), LEN),
        separator in prop::sample::select(vec!["-", "", " ", "ー", "　"]),
    ) {
        let code = RecoveryCode::from_indices(indices);
        let shown = code.display();
        let (a, b) = shown.split_once('-').unwrap();
        let typed: String = format!("{a}{separator}{b}")
            .chars()
            .enumerate()
            .map(|(i, c)| {
                let k = i.min(LEN - 1);
                let c = if upper[k] { c.to_ascii_uppercase() } else { c };
                if full_width[k] && c.is_ascii_alphanumeric() {
                    char::from_u32(c as u32 + 0xFEE0).unwrap_or(c)
                } else {
                    c
                }
            })
            .collect();
        prop_assert_eq!(RecoveryCode::parse(&typed), Ok(code));
    }
}

// ---------------------------------------------------------------------------------------
// Cookies: the header, the session id, the remembered-browser and known-device tokens

fn cookie_name() -> impl Strategy<Value = String> {
    "[a-zA-Z_][a-zA-Z0-9_]{0,15}"
}

fn cookie_value() -> impl Strategy<Value = String> {
    // RFC 6265 cookie-octets: no space, no `"`, `,`, `;` or `\`.
    "[!#-+\\--:<-\\[\\]-~]{0,40}"
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn cookie_header_parsing_never_panics(lines in prop::collection::vec(text(), 0..4), name in text()) {
        if let Some(v) = cookies::find(lines.iter().map(String::as_str), &name) {
            prop_assert!(lines.iter().any(|l| l.contains(v.as_str())));
        }
        for line in &lines {
            let _ = tower_sessions::session::Id::from_str(line);
            if let Some(t) = BrowserToken::parse(line) {
                prop_assert_eq!(t.as_str(), line.as_str());
            }
            if let Some(t) = DeviceToken::parse(line) {
                prop_assert_eq!(t.to_string(), line.as_str());
            }
        }
    }

    /// A jar of cookies as a browser sends it, over one or more header lines: each is found
    /// under its name, the first one where a name repeats.
    #[test]
    fn every_cookie_in_a_jar_is_found(
        jar in prop::collection::vec((cookie_name(), cookie_value()), 1..8),
        split in any::<prop::sample::Index>(),
        spaced in any::<bool>(),
        absent in cookie_name(),
    ) {
        let pairs: Vec<String> = jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let sep = if spaced { "; " } else { ";" };
        let at = split.index(pairs.len() + 1);
        let lines = [pairs[..at].join(sep), pairs[at..].join(sep)];
        for (name, _) in &jar {
            let first = jar.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
            prop_assert_eq!(cookies::find(lines.iter().map(String::as_str), name), first);
        }
        if !jar.iter().any(|(k, _)| *k == absent) {
            prop_assert_eq!(cookies::find(lines.iter().map(String::as_str), &absent), None);
        }
    }

    #[test]
    fn tokens_round_trip(
        session in any::<i128>(),
        browser in any::<[u8; 32]>(),
        owner in 0i64..=i64::MAX,
        id in any::<[u8; 16]>(),
        mac in any::<[u8; 32]>(),
    ) {
        let sid = tower_sessions::session::Id(session);
        prop_assert_eq!(tower_sessions::session::Id::from_str(&sid.to_string()).ok(), Some(sid));
        let b = BrowserToken::new(browser);
        prop_assert_eq!(BrowserToken::parse(b.as_str()), Some(b.clone()));
        let d = DeviceToken { owner, id: hex_of(&id), mac: hex_of(&mac) };
        prop_assert_eq!(DeviceToken::parse(&d.to_string()), Some(d.clone()));
    }
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ---------------------------------------------------------------------------------------
// The proxy's forwarding header (SEC-7)

const TRUSTED: &str = "10.0.0.0/8, 2001:db8:aaaa::/48";

fn trusted_proxy() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 3]>().prop_map(|[a, b, c]| IpAddr::V4(Ipv4Addr::new(10, a, b, c))),
        any::<[u16; 5]>().prop_map(|s| IpAddr::V6(Ipv6Addr::new(
            0x2001, 0xdb8, 0xaaaa, s[0], s[1], s[2], s[3], s[4]
        ))),
    ]
}

/// An address outside the trusted blocks (IPv4, IPv6, or IPv4 written as IPv6).
fn client_ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>()
            .prop_filter("not a proxy", |o| o[0] != 10)
            .prop_map(|o| IpAddr::V4(Ipv4Addr::from(o))),
        any::<[u16; 8]>()
            .prop_filter("not a proxy", |s| s[..3] != [0x2001, 0xdb8, 0xaaaa]
                && s[..6] != [0, 0, 0, 0, 0, 0xffff])
            .prop_map(|s| IpAddr::V6(Ipv6Addr::from(s))),
        any::<[u8; 4]>()
            .prop_filter("not a proxy", |o| o[0] != 10)
            .prop_map(|o| IpAddr::V6(Ipv4Addr::from(o).to_ipv6_mapped())),
    ]
}

/// How one hop is written: bare, with a port, quoted; as `X-Forwarded-For` or `Forwarded`.
fn hop(ip: IpAddr, header: ProxyHeader, style: u8) -> String {
    let port = 1024 + u16::from(style) * 7;
    let with_port = match ip {
        IpAddr::V4(v4) => format!("{v4}:{port}"),
        IpAddr::V6(v6) => format!("[{v6}]:{port}"),
    };
    let bracketed = match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    };
    match (header, style % 4) {
        (ProxyHeader::XForwardedFor, 0 | 1) => ip.to_string(),
        (ProxyHeader::XForwardedFor, 2) => with_port,
        (ProxyHeader::XForwardedFor, _) => format!(" {ip} "),
        (ProxyHeader::Forwarded, 0) if ip.is_ipv4() => format!("for={ip}"),
        (ProxyHeader::Forwarded, 0 | 1) => format!("for=\"{bracketed}\""),
        (ProxyHeader::Forwarded, 2) => format!("for=\"{with_port}\";proto=https"),
        (ProxyHeader::Forwarded, _) => format!("proto=https; For=\"{bracketed}\";by=x"),
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn forwarding_headers_never_panic_and_only_trusted_peers_are_believed(
        values in prop::collection::vec(text(), 0..3),
        peer in prop_oneof![trusted_proxy(), client_ip()],
        forwarded in any::<bool>(),
    ) {
        let header = if forwarded { ProxyHeader::Forwarded } else { ProxyHeader::XForwardedFor };
        let proxies = TrustedProxies::parse(TRUSTED, header).unwrap();
        let values: Vec<&str> = values.iter().map(String::as_str).collect();
        let client = proxies.client(peer, &values);
        if !proxies.trusts(peer) {
            prop_assert_eq!(client, canonical(peer));
        }
        prop_assert_eq!(TrustedProxies::none().client(peer, &values), canonical(peer));
    }

    /// Whatever the client wrote into the header itself, the address our proxies saw is
    /// the one counted.
    #[test]
    fn the_client_behind_trusted_proxies_is_found(
        client in client_ip(),
        hops in prop::collection::vec(trusted_proxy(), 1..5),
        forged in prop::collection::vec(text(), 0..3),
        styles in prop::collection::vec(any::<u8>(), 6),
        lines in 1usize..3,
        forwarded in any::<bool>(),
    ) {
        let header = if forwarded { ProxyHeader::Forwarded } else { ProxyHeader::XForwardedFor };
        let proxies = TrustedProxies::parse(TRUSTED, header).unwrap();
        let (peer, written) = hops.split_last().unwrap();
        let mut elements: Vec<String> = forged.clone();
        elements.push(hop(client, header, styles[0]));
        elements.extend(written.iter().zip(&styles[1..]).map(|(ip, s)| hop(*ip, header, *s)));
        // The header may come as several lines; together they are one list.
        let cut = elements.len().saturating_sub(lines - 1).max(forged.len() + 1);
        let values = [elements[..cut].join(", "), elements[cut..].join(",")];
        let values: Vec<&str> = values.iter().map(String::as_str).filter(|v| !v.is_empty()).collect();
        prop_assert_eq!(proxies.client(*peer, &values), canonical(client), "{:?}", values);
    }

    #[test]
    fn trusted_proxy_lists_parse_or_are_refused(s in text(), nets in prop::collection::vec(
        prop_oneof![
            (any::<[u8; 4]>(), 1u8..=32).prop_map(|(o, p)| format!("{}/{p}", Ipv4Addr::from(o))),
            any::<[u8; 4]>().prop_map(|o| Ipv4Addr::from(o).to_string()),
            (any::<[u16; 8]>(), 1u8..=128).prop_map(|(s, p)| format!("{}/{p}", Ipv6Addr::from(s))),
        ],
        1..5,
    )) {
        let _ = TrustedProxies::parse(&s, ProxyHeader::XForwardedFor);
        let list = nets.join(", ");
        let parsed = TrustedProxies::parse(&list, ProxyHeader::XForwardedFor);
        prop_assert!(parsed.is_ok(), "{}: {:?}", list, parsed);
        let parsed = parsed.unwrap();
        for net in &nets {
            let addr = net.split('/').next().unwrap();
            prop_assert!(parsed.trusts(IpAddr::from_str(addr).unwrap()), "{} in {}", addr, list);
        }
    }
}
