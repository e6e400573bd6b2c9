//! The site's HTML: one page wrapper, markdown turned into HTML, the index, and the compare
//! view's data.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use pulldown_cmark::{Event, Options, Parser, html};
use serde::Serialize;

use crate::compare::commands::SuiteRuns;
use crate::compare::keys::case_key;
use crate::results::{RunResults, Status};

pub const CSS: &str = include_str!("assets/site.css");
pub const JS: &str = include_str!("assets/site.js");

/// `s` with HTML's special characters escaped, for text and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A whole page: `depth` is how many folders below the site root it lives (for the links
/// to the stylesheet, the script and the index).
fn page(title: &str, depth: usize, body: &str) -> String {
    let up = "../".repeat(depth);
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{t}</title>\n<link rel=\"stylesheet\" href=\"{up}site.css\">\n\
         <script src=\"{up}site.js\" defer></script>\n</head>\n<body>\n\
         <nav><a href=\"{up}index.html\">graphbench results</a> · {t}</nav>\n<main>\n{body}\n</main>\n\
         </body>\n</html>\n",
        t = escape(title),
    )
}

/// Markdown (a report, a history) as a page; GitHub-flavoured tables included. Raw HTML in
/// it is shown as text, except the `<br>` table cells use: the markdown quotes hostnames,
/// error messages and case ids from results.json, which must never become markup.
pub fn markdown_page(title: &str, depth: usize, markdown: &str) -> String {
    let mut body = String::new();
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let events = Parser::new_ext(markdown, options).map(|e| match e {
        Event::Html(h) | Event::InlineHtml(h) if h.trim() != "<br>" => Event::Text(h),
        e => e,
    });
    html::push_html(&mut body, events);
    page(title, depth, &body)
}

/// How the site names a run's machine: its hostname and CPU model.
pub fn machine(run: &RunResults) -> String {
    let host = run.system.hostname.as_deref().unwrap_or("unknown host");
    format!("{host} ({})", run.system.cpu_model)
}

/// Every machine that ran any of `suites`, sorted.
pub fn machines(suites: &[SuiteRuns]) -> Vec<String> {
    suites
        .iter()
        .flat_map(|s| s.runs.iter().map(|(_, r)| machine(r)))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// A run's folder name: where its page lives in the site, unique within its suite and a
/// single path component (unlike the `run_id` inside results.json, which a copy keeps).
pub fn folder(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `s` as one URL path segment: characters other than letters, digits and `-._~`
/// percent-encoded.
fn segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            b => format!("%{b:02X}"),
        })
        .collect()
}

/// The index: a suites × machines matrix, then every run of every suite, newest first.
pub fn index_page(suites: &[SuiteRuns], root: &Path) -> String {
    let machines = machines(suites);
    let mut b = String::new();
    let _ = writeln!(
        b,
        "<h1>graphbench results</h1>\n<p>Every run under <code>{}</code>. A run's report is \
         what <code>harness report</code> renders; a suite's history is \
         <code>harness history</code>; compare shows any two runs of a suite.</p>",
        escape(&root.display().to_string())
    );
    b.push_str("<h2>Suites × machines</h2>\n<table id=\"matrix\">\n<thead><tr><th>suite</th>");
    for m in &machines {
        let _ = write!(b, "<th>{}</th>", escape(m));
    }
    b.push_str("</tr></thead>\n<tbody>\n");
    for s in suites {
        let _ = write!(
            b,
            "<tr><td><a href=\"#suite-{}\">{}</a></td>",
            escape(&segment(&s.name)),
            escape(&s.name)
        );
        for m in &machines {
            let on: Vec<&(std::path::PathBuf, RunResults)> =
                s.runs.iter().filter(|(_, r)| &machine(r) == m).collect();
            match on.last() {
                Some((path, latest)) => {
                    let _ = write!(
                        b,
                        "<td>{} run{}, latest <a href=\"{}/{}/index.html\">{}</a></td>",
                        on.len(),
                        if on.len() == 1 { "" } else { "s" },
                        escape(&segment(&s.name)),
                        escape(&segment(&folder(path))),
                        escape(&latest.started_at)
                    );
                }
                None => b.push_str("<td>–</td>"),
            }
        }
        b.push_str("</tr>\n");
    }
    b.push_str("</tbody>\n</table>\n");
    for s in suites {
        let name = escape(&s.name);
        let href = escape(&segment(&s.name));
        let _ = writeln!(b, "<h2 id=\"suite-{href}\">{name}</h2>");
        if !s.runs.is_empty() {
            let _ = writeln!(
                b,
                "<p><a href=\"{href}/index.html\">history</a> · \
                 <a href=\"{href}/compare.html\">compare two runs</a></p>"
            );
        }
        b.push_str(
            "<table class=\"runs\">\n<thead><tr><th>started</th><th>machine</th><th>commit</th>\
             <th>profile</th><th>cases ok</th><th>report</th></tr></thead>\n<tbody>\n",
        );
        for (path, r) in s.runs.iter().rev() {
            let ok = r.cases.iter().filter(|c| c.status == Status::Ok).count();
            let commit = r.harness.git_commit.as_deref().unwrap_or("unknown");
            let _ = writeln!(
                b,
                "<tr><td>{}</td><td>{}</td><td><code>{}</code>{}</td><td>{}</td><td>{ok} of {}</td>\
                 <td><a href=\"{href}/{}/index.html\">{}</a></td></tr>",
                escape(&r.started_at),
                escape(&machine(r)),
                escape(commit.get(..10).unwrap_or(commit)),
                if r.harness.git_dirty == Some(true) {
                    " (dirty)"
                } else {
                    ""
                },
                escape(&r.suite.profile),
                r.cases.len(),
                escape(&segment(&folder(path))),
                escape(&folder(path))
            );
        }
        b.push_str("</tbody>\n</table>\n");
        if !s.skipped.is_empty() {
            b.push_str("<p>Not shown:</p>\n<ul>\n");
            for (path, why) in &s.skipped {
                let _ = writeln!(
                    b,
                    "<li><code>{}</code>: {}</li>",
                    escape(&path.display().to_string()),
                    escape(why)
                );
            }
            b.push_str("</ul>\n");
        }
    }
    page("index", 0, &b)
}

/// What the compare view knows of a run.
#[derive(Serialize)]
struct RunData<'a> {
    id: &'a str,
    started: &'a str,
    machine: String,
    commit: &'a str,
    /// Case key -> [median, CI low, CI high] in seconds, for the cases with a summary.
    cases: BTreeMap<String, [f64; 3]>,
}

/// The compare view of a suite: the runs' medians as JSON in the page, drawn by site.js.
pub fn compare_page(suite: &SuiteRuns) -> anyhow::Result<String> {
    let runs: Vec<RunData> = suite
        .runs
        .iter()
        .map(|(_, r)| RunData {
            id: &r.run_id,
            started: &r.started_at,
            machine: machine(r),
            commit: r.harness.git_commit.as_deref().unwrap_or("unknown"),
            cases: r
                .cases
                .iter()
                .filter_map(|c| {
                    let s = c.summary.as_ref()?;
                    Some((case_key(c), [s.median_s, s.ci_low_s, s.ci_high_s]))
                })
                .collect(),
        })
        .collect();
    // No `<` at all inside the script element (`</script>`, `<!--` would change how HTML
    // reads it); in JSON a `<` can only be inside a string, where `\u003c` means the same.
    let data = serde_json::to_string(&runs)?.replace('<', "\\u003c");
    let body = format!(
        "<h1>{name}: compare two runs</h1>\n\
         <p>Medians with their 95% intervals as each run stored them, and B / A. Intervals \
         that do not overlap are marked; whether that is a change beyond the noise is \
         <code>harness compare A B</code>'s verdict, which also weighs the runs' round spread \
         and the threshold.</p>\n\
         <p><label>A <select id=\"run-a\"></select></label> \
         <label>B <select id=\"run-b\"></select></label></p>\n\
         <div id=\"compare\"></div>\n\
         <script id=\"runs\" type=\"application/json\">{data}</script>",
        name = escape(&suite.name)
    );
    Ok(page(&format!("{} · compare", suite.name), 1, &body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_names_is_escaped_and_tables_become_html() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        let p = markdown_page("t<", 1, "| a | b |\n|---|---|\n| 1 | 2 |\n");
        assert!(p.contains("<table>") && p.contains("<td>2</td>"), "{p}");
        assert!(p.contains("<title>t&lt;</title>") && p.contains("href=\"../site.css\""));
    }
}
