//! How a case's parameters and thread setting read in reports, comparisons and keys.

use serde_json::Value;

/// A parameter value as a reader writes it: strings unquoted, numbers and booleans as is.
pub fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Threads as asked for: `1`, `4`, or `all` (0).
pub fn threads_text(threads: usize) -> String {
    if threads == 0 {
        "all".to_string()
    } else {
        threads.to_string()
    }
}
