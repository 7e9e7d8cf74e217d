//! faultline's evidence protocol from Rust std: one JSON line per fault that acted, appended to
//! the file named by `FAULTLINE_EVIDENCE_FILE`, naming the test as the results format reports it.
use std::fs::OpenOptions;
use std::io::Write;

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Appends one evidence line; a no-op when no faultline run collects evidence.
/// `issues`: the matrix issue ids the test claims (Rust test names cannot carry `[id]`).
pub fn record_fault(test: &str, issues: &[&str], kind: &str, name: &str, detail: &str, attrs: &[(&str, i64)]) {
    let Ok(path) = std::env::var("FAULTLINE_EVIDENCE_FILE") else { return };
    let issues: Vec<String> = issues.iter().map(|i| json_string(i)).collect();
    let attrs: Vec<String> = attrs.iter().map(|(k, v)| format!("{}:{v}", json_string(k))).collect();
    let line = format!(
        "{{\"test\":{},\"issues\":[{}],\"kind\":{},\"name\":{},\"detail\":{},\"attributes\":{{{}}}}}\n",
        json_string(test),
        issues.join(","),
        json_string(kind),
        json_string(name),
        json_string(detail),
        attrs.join(",")
    );
    // One write of a short line with O_APPEND: lines from several processes never interleave.
    let mut f = OpenOptions::new().create(true).append(true).open(&path).expect("open FAULTLINE_EVIDENCE_FILE");
    f.write_all(line.as_bytes()).expect("write FAULTLINE_EVIDENCE_FILE");
}
