//! Error messages without the payload's values: an event may carry customer data (phone
//! numbers, names), and refusals and damaged fields are logged. What is kept is the kind of a
//! wrong value and what was expected, which is all a reader needs next to the field's path.

/// How much of a foreign `source` / `detail-type` a refusal quotes.
const QUOTE_MAX_CHARS: usize = 64;

/// A `source` / `detail-type` for a refusal: quoted in part, or what it was instead of a string.
pub(super) fn described(value: Result<Option<String>, String>) -> String {
    match value {
        Ok(Some(value)) => quoted(value),
        Ok(None) => "missing".into(),
        Err(kind) => kind,
    }
}

/// A serde error's message without the values it quotes (`invalid type: string "+1 555…"`): the
/// payload may carry customer data, and refusals are logged. Keeps the kind of value and what
/// was expected, which is all a reader needs next to the field's path.
pub(super) fn without_values(error: &serde_json::Error) -> String {
    let message = error.to_string();
    // serde_json appends the position; it is no help in a one-line event and not a value.
    let message = message
        .rsplit_once(" at line ")
        .map_or(message.as_str(), |(head, _)| head);
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = message.strip_prefix(prefix)
            && let Some((unexpected, expected)) = rest.split_once(", expected ")
        {
            // `string "…"`, `integer `5``, `floating point `1.5``, `boolean `true``, `map`.
            let kind = unexpected
                .split(['"', '`'])
                .next()
                .unwrap_or_default()
                .trim();
            return format!("{prefix}{kind}, expected {expected}");
        }
    }
    if message.starts_with("unknown variant") || message.contains('"') || message.contains('`') {
        return "not a valid value".into();
    }
    message.to_owned()
}

/// At most [`QUOTE_MAX_CHARS`] of a string, control characters escaped, for one-line refusals.
pub(super) fn quoted(value: String) -> String {
    let mut quoted: String = value
        .chars()
        .take(QUOTE_MAX_CHARS)
        .flat_map(|c| c.escape_debug())
        .collect();
    if value.chars().nth(QUOTE_MAX_CHARS).is_some() {
        quoted.push('…');
    }
    quoted
}
