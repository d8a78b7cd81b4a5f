//! virsh's table layout (tools/vsh-table.c), reproduced exactly because scripts parse it.
//!
//! Every cell is printed as `" " + text` and padded to its column's width plus two spaces,
//! except the last one. Under `--quiet` the header and the dashes
//! are left out, and then the header does not count towards the column widths either.

pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Self {
        Table {
            header: header.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn add_row(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    pub fn render(&self, with_header: bool) -> String {
        let columns = self.header.len();
        let mut widths = vec![0usize; columns];
        let counted = with_header
            .then_some(&self.header)
            .into_iter()
            .chain(&self.rows);
        for row in counted {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(display_width(cell));
            }
        }
        let mut out = String::new();
        if with_header {
            render_row(&mut out, &self.header, &widths);
            let dashes: usize = widths.iter().map(|w| w + 3).sum();
            out.push_str(&"-".repeat(dashes));
            out.push('\n');
        }
        for row in &self.rows {
            render_row(&mut out, row, &widths);
        }
        out
    }
}

fn render_row(out: &mut String, row: &[String], widths: &[usize]) {
    let last = row.len().saturating_sub(1);
    for (i, (cell, width)) in row.iter().zip(widths).enumerate() {
        out.push(' ');
        out.push_str(cell);
        if i != last {
            let pad = width + 2 - display_width(cell).min(*width);
            out.extend(std::iter::repeat_n(' ', pad));
        }
    }
    out.push('\n');
}

/// virsh measures cells with wcswidth() in the current locale; in the C locale multibyte text
/// fails to convert and it falls back to the byte length. We follow the same two cases.
fn display_width(s: &str) -> usize {
    if s.is_ascii() || !utf8_locale() {
        s.len()
    } else {
        s.chars().count()
    }
}

fn utf8_locale() -> bool {
    ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .is_some_and(|v| {
            let v = v.to_ascii_lowercase();
            v.contains("utf-8") || v.contains("utf8")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_virsh_list_layout() {
        let mut t = Table::new(&["Id", "Name", "State"]);
        t.add_row(vec!["1".into(), "test".into(), "running".into()]);
        assert_eq!(
            t.render(true),
            " Id   Name   State\n----------------------\n 1    test   running\n"
        );
    }

    #[test]
    fn quiet_ignores_header_widths() {
        let mut t = Table::new(&["Name", "Path"]);
        t.add_row(vec!["a".into(), "/b".into()]);
        assert_eq!(t.render(false), " a   /b\n");
    }
}
