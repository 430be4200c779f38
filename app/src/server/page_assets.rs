//! What the `<head>` of every page loads, and how (issue 11: a page that loads fast on a
//! phone).
//!
//! - **The stylesheet.** The pages a person opens before signing in
//!   ([`crate::urls::BEFORE_SIGN_IN`]) carry it in a `<style>` of their own: on a first visit
//!   nothing is cached, and a linked file would cost one more round trip before anything can
//!   be drawn. Those pages go out compressed, so the 8 KB of CSS cost about 2 KB there. The
//!   other pages (the account's, sent uncompressed for BREACH's sake) link the
//!   content-hashed file, which the browser then keeps for a year. Under `cargo leptos
//!   watch` every page links it: the server reads the file once, and a change of the CSS
//!   alone does not restart it, so an inlined copy would go stale.
//! - **The islands' loader.** The script leptos's `HydrationScripts` writes for islands,
//!   without the `modulepreload` and `preload` hints it puts before it. Those hints make the
//!   browser fetch and compile the JS and fetch the wasm while the page itself is being read,
//!   at a high priority, for a loader that only starts on `requestIdleCallback`: on a slowed
//!   CPU they delayed `DOMContentLoaded` by 30–50 ms and made hydration no sooner
//!   (BENCHMARKS.md, 2026-12-08). The forms work without the wasm, so nothing waits for it.
//!
//! `island_script.js` is leptos 0.8.23's `src/hydration/island_script.js` (Copyright (c)
//! 2022 Greg Johnston, MIT licence), unchanged; a test checks that leptos still writes the
//! same script, so an upgrade that changes it fails here rather than in a browser.

use std::path::{Path, PathBuf};

use leptos::config::LeptosOptions;

/// The islands' loader, called as leptos calls it (see the module's documentation).
pub const ISLAND_SCRIPT: &str = include_str!("island_script.js");

/// The names of the site's files and the stylesheet's text, read once when the router is
/// built.
#[derive(Debug, Clone, Default)]
pub struct PageAssets {
    /// `/pkg/nidan[.<hash>].css`.
    pub css_href: String,
    /// The stylesheet itself, for the pages that carry it; `None` when every page links it
    /// (under `cargo leptos watch`, or when the file could not be read).
    pub css: Option<String>,
    /// The loader's call: `ISLAND_SCRIPT("", "pkg", "nidan.<hash>", "nidan.<hash>", false);`.
    pub loader: String,
}

impl PageAssets {
    /// Reads `hash.txt` (cargo-leptos writes it beside the server binary when `hash-files` is
    /// on) and the stylesheet from the site's folder. A file that cannot be read is logged and
    /// leaves the plain name, or the link, in its place: the pages still work.
    pub fn load(options: &LeptosOptions) -> Self {
        let hashes = if options.hash_files {
            match hash_file(&options.hash_file).map(std::fs::read_to_string) {
                Some(Ok(text)) => text,
                _ => {
                    tracing::error!("hash-files is on but hash.txt could not be read: plain names");
                    String::new()
                }
            }
        } else {
            String::new()
        };
        let watching = std::env::var_os("LEPTOS_WATCH").is_some();
        Self::from_parts(options, &hashes, watching, |path| {
            std::fs::read_to_string(path)
                .inspect_err(|e| {
                    tracing::warn!(path = %path.display(), error = %e, "the stylesheet is linked, not inlined");
                })
                .ok()
        })
    }

    fn from_parts(
        options: &LeptosOptions,
        hashes: &str,
        watching: bool,
        read: impl FnOnce(&Path) -> Option<String>,
    ) -> Self {
        let hash = |kind: &str| {
            hashes.lines().find_map(|line| {
                let (file, hash) = line.trim().split_once(':')?;
                (file == kind).then(|| format!(".{}", hash.trim()))
            })
        };
        let name = options.output_name.to_string();
        let pkg = options.site_pkg_dir.to_string();
        let js = format!("{name}{}", hash("js").unwrap_or_default());
        // As leptos names it: cargo-leptos's wasm is `<name>_bg.wasm` unless it built with
        // LEPTOS_OUTPUT_NAME set (it always does; `cargo build` alone may not).
        let wasm = match (hash("wasm"), option_env!("LEPTOS_OUTPUT_NAME")) {
            (Some(hash), _) => format!("{name}{hash}"),
            (None, Some(_)) => name.clone(),
            (None, None) => format!("{name}_bg"),
        };
        let css_file = format!("{name}{}.css", hash("css").unwrap_or_default());
        let css = if watching {
            None
        } else {
            read(
                &Path::new(options.site_root.as_ref())
                    .join(&pkg)
                    .join(&css_file),
            )
            // Text that would end the `<style>` early is not put in a page (none of ours has
            // it; a stylesheet from elsewhere might).
            .filter(|css| !css.to_ascii_lowercase().contains("</style"))
        };
        Self {
            css_href: format!("/{pkg}/{css_file}"),
            css,
            loader: format!(
                "{ISLAND_SCRIPT}({:?}, {pkg:?}, {js:?}, {wasm:?}, false);",
                ""
            ),
        }
    }

    /// The stylesheet the page at `path` carries in itself, if it carries one.
    pub fn css_for(&self, path: &str) -> Option<&str> {
        self.css
            .as_deref()
            .filter(|_| crate::urls::BEFORE_SIGN_IN.contains(&path))
    }
}

/// Where cargo-leptos writes its list of content-hashed names (`name`, `hash.txt`): beside
/// the server binary, where leptos looks for it too.
pub fn hash_file(name: &str) -> Option<PathBuf> {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(name)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use leptos::prelude::*;

    fn options() -> LeptosOptions {
        LeptosOptions::builder()
            .output_name("nidan")
            .site_root("site")
            .build()
    }

    #[test]
    fn the_loader_is_the_script_leptos_writes_for_islands() {
        let leptos = view! { <HydrationScripts options=options() islands=true/> }.to_html();
        let ours = PageAssets::from_parts(&options(), "", false, |_| None).loader;
        assert!(
            leptos.contains(&ours),
            "leptos's island loader changed: copy its island_script.js again\n{leptos}"
        );
        // What is left out: the hints before it.
        assert!(leptos.contains("modulepreload"));
    }

    #[test]
    fn hashed_names_and_the_stylesheet_come_from_the_build() {
        let hashes = "js: Jh1\nwasm: Wh2\ncss: Ch3\n";
        let mut read = None;
        let assets = PageAssets::from_parts(&options(), hashes, false, |path| {
            read = Some(path.to_path_buf());
            Some("main { margin: 0 }".to_owned())
        });
        assert_eq!(read.as_deref(), Some(Path::new("site/pkg/nidan.Ch3.css")));
        assert_eq!(assets.css_href, "/pkg/nidan.Ch3.css");
        assert!(
            assets
                .loader
                .ends_with(r#"("", "pkg", "nidan.Jh1", "nidan.Wh2", false);"#),
            "{}",
            assets.loader
        );
        assert!(assets.css_for("/login").is_some());
        assert!(assets.css_for("/signup").is_some());
        assert!(assets.css_for("/settings").is_none());
        assert!(assets.css_for("/login/../settings").is_none());
    }

    #[test]
    fn while_cargo_leptos_watches_or_without_the_file_every_page_links_it() {
        let watched = PageAssets::from_parts(&options(), "", true, |_| Some("a{}".into()));
        assert!(watched.css_for("/login").is_none());
        assert_eq!(watched.css_href, "/pkg/nidan.css");
        let missing = PageAssets::from_parts(&options(), "", false, |_| None);
        assert!(missing.css_for("/login").is_none());
        let closing = PageAssets::from_parts(&options(), "", false, |_| {
            Some("a{}</STYLE><script>".into())
        });
        assert!(closing.css_for("/login").is_none());
    }
}
