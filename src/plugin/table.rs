//! Columns as kubectl prints them: upper-case headers, each column as wide as its widest cell
//! plus three spaces, the last one unpadded.

/// Renders `header` and `rows` (each as long as `header`).
pub fn render(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let last = cells.len().saturating_sub(1);
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            out.push_str(cell);
            if i < last {
                out.push_str(&" ".repeat(widths[i] - cell.chars().count() + 3));
            }
        }
        out.trim_end().to_string()
    };
    let mut out = vec![line(header.to_vec())];
    out.extend(
        rows.iter()
            .map(|row| line(row.iter().map(String::as_str).collect())),
    );
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up_as_kubectl_prints_them() {
        let rows = vec![
            vec!["EcsService".to_string(), "web".into(), "True".into()],
            vec!["EcsCluster".to_string(), "apps-long".into(), "False".into()],
        ];
        assert_eq!(
            render(&["KIND", "NAME", "READY"], &rows),
            "KIND         NAME        READY\n\
             EcsService   web         True\n\
             EcsCluster   apps-long   False"
        );
    }
}
