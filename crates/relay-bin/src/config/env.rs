//! `${VAR}` in configuration values: every one, anywhere in a string, read from the environment.

use super::ConfigProblem;

/// Replaces every `${VAR}` in the string values under `value` (key path `key`); `at` turns a
/// span into "file, line N".
pub(super) fn expand_value(
    value: &mut toml::Spanned<toml::de::DeValue<'_>>,
    key: &str,
    at: &impl Fn(std::ops::Range<usize>) -> String,
) -> Result<(), ConfigProblem> {
    let span = value.span();
    match value.get_mut() {
        toml::de::DeValue::String(text) if text.contains('$') => {
            let expanded = expand_env(text)
                .map_err(|why| ConfigProblem(format!("{}: {key}: {why}", at(span))))?;
            *text = expanded.into();
        }
        toml::de::DeValue::Array(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                // A table with a name is called by it, as validation does: output "discord".
                let named = match item.get_ref() {
                    toml::de::DeValue::Table(table) => table
                        .iter()
                        .find(|(k, _)| k.get_ref() == "name")
                        .and_then(|(_, v)| v.get_ref().as_str().map(str::to_owned)),
                    _ => None,
                };
                let key =
                    named.map_or_else(|| format!("{key}[{index}]"), |n| format!("{key} {n:?}"));
                expand_value(item, &key, at)?;
            }
        }
        toml::de::DeValue::Table(table) => {
            let separator = if key.ends_with('"') { ' ' } else { '.' };
            for (name, item) in table.iter_mut() {
                expand_value(item, &format!("{key}{separator}{}", name.get_ref()), at)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Every `${NAME}` in `value` replaced by the environment variable `NAME`; `$$` is a literal `$`;
/// any other `$` stays as it is.
///
/// # Errors
/// An unset variable, or a `${` without its `}`, named in the message.
fn expand_env(value: &str) -> Result<String, String> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(tail) = after.strip_prefix('{') {
            let end = tail.find('}').ok_or_else(|| {
                "a ${ without its closing } (write $$ for a literal $)".to_owned()
            })?;
            let name = &tail[..end];
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!(
                    "${{{name}}} is not an environment variable name (letters, digits, _)"
                ));
            }
            let value = std::env::var(name)
                .map_err(|_| format!("environment variable {name} is not set"))?;
            out.push_str(&value);
            rest = &tail[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}
