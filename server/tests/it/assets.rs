//! The files under `/pkg/` and the pages, as a browser gets them (issue 11): a release's
//! precompressed brotli or gzip file when the browser takes it, a year in the cache for
//! content-hashed names, and compressed pages that are still never stored.

use std::io::Read;
use std::path::Path;

use crate::support::{Client, TestApp, on_each_engine_with, paths};

const WASM: &[u8] = b"\0asm raw module bytes";
const WASM_BR: &[u8] = b"brotli bytes made at build time";
const WASM_GZ: &[u8] = b"gzip bytes made at build time";

/// A site folder as `cargo leptos build --release --precompress` leaves it, with hashes.
fn site(dir: &Path) {
    let pkg = dir.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join("nidan.Xy12_ab.wasm"), WASM).unwrap();
    std::fs::write(pkg.join("nidan.Xy12_ab.wasm.br"), WASM_BR).unwrap();
    std::fs::write(pkg.join("nidan.Xy12_ab.wasm.gz"), WASM_GZ).unwrap();
}

fn temp_site(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("nidan-site-{}-{tag}", std::process::id()));
    site(&dir);
    dir
}

async fn get(app: &TestApp, path: &str, accept_encoding: &str) -> crate::support::TestResponse {
    get_as(&app.client(), path, accept_encoding).await
}

/// GET `path` as `client` (with its cookies), accepting `accept_encoding` ("" for none).
async fn get_as(
    client: &Client,
    path: &str,
    accept_encoding: &str,
) -> crate::support::TestResponse {
    let mut req = client.request("GET", path);
    if !accept_encoding.is_empty() {
        req = req.header("accept-encoding", accept_encoding);
    }
    client
        .send(req.body(axum::body::Body::empty()).unwrap())
        .await
}

#[tokio::test]
async fn hashed_files_are_cached_for_a_year_in_the_encoding_the_browser_takes() {
    let dir = temp_site("hashed");
    let root = dir.display().to_string();
    on_each_engine_with(
        |state| {
            state.leptos_options.site_root = root.clone().into();
            state.leptos_options.hash_files = true;
        },
        |app| async move {
            let path = "/pkg/nidan.Xy12_ab.wasm";
            for (accept, encoding, body) in [
                ("br, gzip", Some("br"), WASM_BR),
                ("gzip, deflate", Some("gzip"), WASM_GZ),
                ("", None, WASM),
            ] {
                let res = get(&app, path, accept).await;
                assert_eq!(res.status, 200, "Accept-Encoding: {accept}");
                assert_eq!(
                    res.header("content-encoding"),
                    encoding,
                    "Accept-Encoding: {accept}"
                );
                assert_eq!(res.bytes, body, "Accept-Encoding: {accept}");
                assert_eq!(
                    res.header("cache-control"),
                    Some("public, max-age=31536000, immutable")
                );
                assert_eq!(res.header("content-type"), Some("application/wasm"));
            }
            // A shared cache must keep the encodings apart.
            let res = get(&app, path, "br").await;
            assert!(
                res.headers.get_all("vary").iter().any(|v| v
                    .to_str()
                    .unwrap()
                    .to_ascii_lowercase()
                    .contains("accept-encoding")),
                "{:?}",
                res.headers
            );
        },
    )
    .await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn files_under_one_name_for_every_release_are_asked_for_again() {
    let dir = temp_site("unhashed");
    let root = dir.display().to_string();
    on_each_engine_with(
        |state| {
            state.leptos_options.site_root = root.clone().into();
            state.leptos_options.hash_files = false;
        },
        |app| async move {
            let res = get(&app, "/pkg/nidan.Xy12_ab.wasm", "br").await;
            assert_eq!(res.status, 200);
            assert_eq!(res.header("cache-control"), Some("no-cache"));

            // A file that is not there (an old release's) is not found, and no cache may
            // remember that: the next release may have it. (The rule does not depend on
            // hashing; with hashed names on and no hash.txt beside the test binary the pages
            // would fall back to plain names, which the server refuses to start with.)
            let res = get(&app, "/pkg/nidan.0ld0ld.wasm", "br").await;
            assert_eq!(res.status, 404);
            assert_eq!(res.header("cache-control"), Some("no-store"));
        },
    )
    .await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn pages_are_compressed_and_still_never_stored() {
    on_each_engine_with(
        |_| {},
        |app| async move {
            let plain = get(&app, "/login", "").await;
            assert_eq!(plain.status, 200);
            assert_eq!(plain.header("content-encoding"), None);
            assert!(plain.body.contains("ログイン"), "{}", plain.body);

            let res = get(&app, "/login", "gzip").await;
            assert_eq!(res.status, 200);
            assert_eq!(res.header("content-encoding"), Some("gzip"));
            assert_eq!(res.header("cache-control"), Some("no-store"));
            let mut page = String::new();
            flate2::read::GzDecoder::new(res.bytes.as_slice())
                .read_to_string(&mut page)
                .unwrap();
            assert!(page.contains("ログイン"), "{page}");
            assert!(res.bytes.len() * 2 < page.len(), "gzip saved little");

            let res = get(&app, "/login", "br;q=1.0, gzip;q=0.5").await;
            assert_eq!(res.header("content-encoding"), Some("br"));
            let mut page = String::new();
            brotli_decompressor::Decompressor::new(res.bytes.as_slice(), 4096)
                .read_to_string(&mut page)
                .unwrap();
            assert!(page.contains("ログイン"), "{page}");
        },
    )
    .await;
}

#[tokio::test]
async fn answers_that_can_show_recovery_codes_are_never_compressed() {
    on_each_engine_with(
        |_| {},
        |app| async move {
            let client = app.signed_up("codes@example.jp").await;
            for path in [
                "/settings",
                "/settings?dialog=recovery&recovery_left=1234",
                "/settings/password",
            ] {
                let res = get_as(&client, path, "br, gzip").await;
                assert_eq!(res.status, 200, "{path}");
                assert!(
                    res.body.contains("codes@example.jp"),
                    "{path}: {}",
                    res.body
                );
                assert_eq!(res.header("content-encoding"), None, "{path}");
                assert_eq!(res.header("cache-control"), Some("no-store"), "{path}");
            }
            // The codes themselves, as the dialog's script reads them.
            let res = get_as(&client, paths::RECOVERY_CODES, "br, gzip").await;
            assert_eq!(res.header("content-encoding"), None, "{}", res.body);
            // A path spelled to reach the settings page another way is not on the list.
            for path in ["/x/../settings", "/%2e/settings", "/settings/"] {
                let res = get_as(&client, path, "br, gzip").await;
                assert_eq!(res.header("content-encoding"), None, "{path}");
            }
            // The pages before signing in are.
            let res = get(&app, "/signup", "br, gzip").await;
            assert_eq!(res.header("content-encoding"), Some("br"));
        },
    )
    .await;
}

/// The pages before sign-in carry the stylesheet, as it is, under the answer's CSP nonce;
/// the account pages link the file the browser caches; no page has the browser fetch the
/// JS or wasm ahead of the islands' loader (issue 11, `app::server::page_assets`).
#[tokio::test]
async fn entry_pages_carry_the_stylesheet_and_no_page_preloads_the_client() {
    const CSS: &str = "main > p { margin: 0 }";
    let dir = temp_site("styled");
    std::fs::write(dir.join("pkg").join("nidan.css"), CSS).unwrap();
    let root = dir.display().to_string();
    on_each_engine_with(
        |state| {
            state.leptos_options.site_root = root.clone().into();
            state.leptos_options.hash_files = false;
        },
        |app| async move {
            for path in ["/login", "/signup", "/"] {
                let res = get(&app, path, "").await;
                assert_eq!(res.status, 200, "{path}");
                let csp = res.header("content-security-policy").unwrap();
                let nonce = csp
                    .split("'nonce-")
                    .nth(1)
                    .and_then(|rest| rest.split('\'').next())
                    .unwrap();
                assert!(
                    csp.contains(&format!("style-src 'self' 'nonce-{nonce}';")),
                    "{csp}"
                );
                assert!(
                    res.body.contains(&format!(
                        r#"<style id="leptos" nonce="{nonce}">{CSS}</style>"#
                    )),
                    "{path}: {}",
                    res.body
                );
                assert!(!res.body.contains(r#"rel="stylesheet""#), "{path}");
                assert!(!res.body.contains("preload"), "{path}: {}", res.body);
            }

            let client = app.signed_up("styled@example.jp").await;
            let res = get_as(&client, "/settings", "").await;
            assert_eq!(res.status, 200);
            assert!(
                res.body
                    .contains(r#"<link id="leptos" rel="stylesheet" href="/pkg/nidan.css">"#),
                "{}",
                res.body
            );
            assert!(!res.body.contains("<style"), "{}", res.body);
            assert!(!res.body.contains("preload"), "{}", res.body);
            // The islands' loader is there.
            assert!(
                res.body.contains(r#"("", "pkg", "nidan", "#),
                "{}",
                res.body
            );
        },
    )
    .await;
    let _ = std::fs::remove_dir_all(dir);
}
