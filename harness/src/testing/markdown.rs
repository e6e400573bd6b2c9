//! A markdown table lint: every row of a table has its header's column count, and every
//! table starts with a header and a delimiter row. GitHub renders a row with another count
//! as garbage (or, glued under a table, as rows of it), and nothing else catches that.

/// The problems of the tables in `text`, as `line N: what` (1-based); empty when clean.
/// Fenced code blocks are skipped; a cell boundary is an unescaped `|`, inside code spans
/// too, as GitHub splits them.
pub fn table_problems(text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let mut fenced = false;
    let mut table: Option<usize> = None; // the header's column count
    let mut first_row = false;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let t = line.trim();
        if t.starts_with("```") {
            fenced = !fenced;
            table = None;
            continue;
        }
        if fenced || !t.starts_with('|') {
            table = None;
            continue;
        }
        let cells = cells(t);
        match table {
            None => {
                table = Some(cells.len());
                first_row = true;
            }
            Some(columns) if first_row => {
                first_row = false;
                if !cells.iter().all(|c| is_delimiter(c)) {
                    problems.push(format!(
                        "line {n}: a table's second row must be its delimiter (|---|), not {t:?}"
                    ));
                } else if cells.len() != columns {
                    problems.push(format!(
                        "line {n}: the delimiter has {} columns, the header {columns}",
                        cells.len()
                    ));
                }
            }
            Some(columns) if cells.len() != columns => problems.push(format!(
                "line {n}: {} cells in a table of {columns} columns: {t:?}",
                cells.len()
            )),
            Some(_) => {}
        }
    }
    problems
}

/// The cells of a table row (outer pipes optional).
fn cells(row: &str) -> Vec<&str> {
    let inner = row.strip_prefix('|').unwrap_or(row);
    let mut bounds = Vec::new();
    let mut escaped = false;
    for (i, ch) in inner.char_indices() {
        if ch == '|' && !escaped {
            bounds.push(i);
        }
        escaped = ch == '\\' && !escaped;
    }
    let mut out = Vec::new();
    let mut from = 0;
    for b in bounds {
        out.push(inner[from..b].trim());
        from = b + 1;
    }
    let rest = inner[from..].trim();
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

fn is_delimiter(cell: &str) -> bool {
    let core = cell.trim_start_matches(':').trim_end_matches(':');
    !core.is_empty() && core.chars().all(|c| c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clean_table_passes() {
        let md = "text\n\n| a | b |\n|---|:--:|\n| 1 | `x\\|y` |\n\nmore\n";
        assert!(table_problems(md).is_empty(), "{:?}", table_problems(md));
    }

    #[test]
    fn rows_glued_under_a_table_are_found() {
        let md = "| a | b |\n|---|---|\n| 1 | 2 |\n| 1 | 2 | 3 |\n";
        let p = table_problems(md);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].starts_with("line 4: 3 cells in a table of 2 columns"),
            "{p:?}"
        );
    }

    #[test]
    fn a_table_without_a_delimiter_is_found() {
        let p = table_problems("| a | b |\n| 1 | 2 |\n");
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].contains("delimiter"), "{p:?}");
        let p = table_problems("| a | b |\n|---|\n");
        assert!(
            p[0].contains("the delimiter has 1 columns, the header 2"),
            "{p:?}"
        );
    }

    #[test]
    fn code_blocks_and_unescaped_pipes_in_code_count_as_github_counts_them() {
        assert!(table_problems("```\n| a |\n| b | c |\n```\n").is_empty());
        // An unescaped pipe inside a code span still splits the cell on GitHub.
        let p = table_problems("| a | b |\n|---|---|\n| `x|y` | 2 |\n");
        assert_eq!(p.len(), 1, "{p:?}");
    }
}
