//! The page (`assets/index.html`, shipped in the binary: no CDN, no build step) with the two
//! settings it needs before it may ask for the board: where to sign in, how often to refresh.

const PAGE: &str = include_str!("../assets/index.html");

/// The page, its settings in `<meta>` tags (escaped as attribute values).
pub fn html(sign_in_url: Option<&str>, refresh_seconds: u64) -> String {
    PAGE.replace(
        "{{SIGN_IN_URL}}",
        &attribute(sign_in_url.unwrap_or_default()),
    )
    .replace("{{REFRESH_SECONDS}}", &refresh_seconds.max(1).to_string())
}

/// The page runs only its own inline script and style, reads only this origin's `board`, and may
/// not be framed; the sign-in is a navigation, which `connect-src` does not govern.
pub fn headers() -> Vec<(&'static str, String)> {
    vec![
        ("content-type", "text/html; charset=utf-8".to_owned()),
        ("cache-control", "no-cache".to_owned()),
        (
            "content-security-policy",
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
             connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; \
             frame-ancestors 'none'"
                .to_owned(),
        ),
        ("x-content-type-options", "nosniff".to_owned()),
        ("referrer-policy", "no-referrer".to_owned()),
    ]
}

fn attribute(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_settings_are_in_the_page_escaped() {
        let page = html(Some("https://idp/authorize?a=1&b=\"2\""), 5);
        assert!(page.contains(r#"content="https://idp/authorize?a=1&amp;b=&quot;2&quot;""#));
        assert!(page.contains(r#"name="wallboard-refresh-seconds" content="5""#));
        assert!(!page.contains("{{"));
    }

    #[test]
    fn the_page_loads_nothing_from_elsewhere() {
        for outside in ["http://", "https://", "//cdn", "<link", "src="] {
            assert!(!PAGE.contains(outside), "{outside}");
        }
    }
}
