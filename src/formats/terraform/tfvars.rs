//! Variable definitions files (`*.tfvars`, `*.tfvars.json`): the values of a root
//! module's variables that the repository itself gives. Terraform loads
//! `terraform.tfvars`, then `terraform.tfvars.json`, then every `*.auto.tfvars`
//! and `*.auto.tfvars.json` in lexical order of their names, each overriding the
//! ones before, on top of the variables' defaults; any other `.tfvars` file is
//! read only when named with `-var-file`, so its values are not taken. What
//! `TF_VAR_` variables and `-var` flags say is not in a repository.

use super::hcl::{Attr, Lower};
use super::{SyntaxError, TfFile};
use crate::source::SourceFile;
use std::collections::HashMap;
use std::path::Path;

/// A name Terraform reads as a variable definitions file (auto-loaded or not).
pub fn is_vars_file(path: &Path) -> bool {
    let name = file_name(path);
    name.ends_with(".tfvars") || name.ends_with(".tfvars.json")
}

/// Where a file stands in Terraform's loading order, `None` when it is not
/// loaded without `-var-file`: later ones override earlier ones.
pub fn load_order(path: &Path) -> Option<(u8, String)> {
    let name = file_name(path);
    match name.as_str() {
        "terraform.tfvars" => Some((0, name)),
        "terraform.tfvars.json" => Some((1, name)),
        n if n.ends_with(".auto.tfvars") || n.ends_with(".auto.tfvars.json") => Some((2, name)),
        _ => None,
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The assignments of a variable definitions file: `name = value` lines (HCL),
/// or the members of one JSON object. A block is refused as Terraform refuses it.
pub fn parse(source: &SourceFile) -> TfFile {
    if file_name(&source.path).ends_with(".json") {
        return parse_json(source);
    }
    let whole = source.span(0, source.text.len());
    let body = match hcl_edit::parser::parse_body(&source.text) {
        Ok(body) => Lower { source }.body(&body, whole),
        Err(_) => return super::parse_config(source),
    };
    if let Some(b) = body.blocks.first() {
        return refused(
            source,
            format!(
                "Unexpected \"{}\" block: Blocks are not allowed here",
                b.kind
            ),
            b.span.start as usize,
        );
    }
    if let Some((message, at)) = super::syntax::redefined(&body) {
        return refused(source, message, at);
    }
    TfFile {
        vars: body.attrs,
        ..TfFile::default()
    }
}

/// JSON's object syntax is HCL's (`{"name": value}`), and Terraform reads the
/// strings of a JSON variables file as templates too, so one expression parse
/// gives every value with its span.
fn parse_json(source: &SourceFile) -> TfFile {
    let whole = source.span(0, source.text.len());
    let expr = match hcl_edit::parser::parse_expr(&blanks_inside_parentheses(&source.text)) {
        Ok(e) => Lower { source }.expr(&e, whole),
        Err(e) => {
            let at = e.location().offset().min(source.text.len());
            return refused(source, format!("Invalid JSON ({})", e.message()), at);
        }
    };
    let super::hcl::ExprKind::Object(entries) = expr.kind else {
        return refused(
            source,
            "Root value must be object: the root value of a JSON variables file is an object of variable names".into(),
            expr.span.start as usize,
        );
    };
    TfFile {
        vars: entries
            .into_iter()
            .map(|(name, value)| Attr {
                name,
                span: value.span,
                value,
            })
            .collect(),
        ..TfFile::default()
    }
}

/// The expression parser takes no blank around the value: a leading ASCII blank
/// becomes `(` and a `)` follows the value, so every offset stays the file's.
fn blanks_inside_parentheses(text: &str) -> String {
    let value = text.trim_end();
    match value.as_bytes().first() {
        Some(b) if b.is_ascii_whitespace() => format!("({})", &value[1..]),
        _ => value.to_owned(),
    }
}

fn refused(source: &SourceFile, message: String, at: usize) -> TfFile {
    TfFile {
        syntax_error: Some(SyntaxError {
            message,
            span: super::line_span(source, at),
        }),
        ..TfFile::default()
    }
}

/// The value each variable takes from the module's auto-loaded files, the last
/// one in Terraform's order winning.
pub fn values<'a>(files: &[(&'a SourceFile, &'a TfFile)]) -> HashMap<String, &'a Attr> {
    let mut loaded: Vec<(u8, String, &TfFile)> = files
        .iter()
        .filter_map(|(s, f)| load_order(&s.path).map(|(rank, name)| (rank, name, *f)))
        .collect();
    loaded.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    let mut out = HashMap::new();
    for (_, _, file) in loaded {
        for a in &file.vars {
            out.insert(a.name.clone(), a);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;
    use std::path::PathBuf;

    #[test]
    fn terraform_loads_the_fixed_names_then_the_auto_files_by_name() {
        let order = |n: &str| load_order(&PathBuf::from(format!("m/{n}")));
        assert_eq!(order("terraform.tfvars").map(|o| o.0), Some(0));
        assert_eq!(order("terraform.tfvars.json").map(|o| o.0), Some(1));
        assert_eq!(order("a.auto.tfvars.json").map(|o| o.0), Some(2));
        assert_eq!(order("prod.tfvars"), None);
        assert!(is_vars_file(Path::new("m/prod.tfvars")));
        assert!(!is_vars_file(Path::new("m/main.tf")));
    }

    #[test]
    fn the_last_auto_file_wins_and_json_values_keep_their_spans() {
        let src = |n: &str, t: &str, id| SourceFile::new(FileId(id), n, t.as_bytes());
        let (a, b, c) = (
            src("m/terraform.tfvars", "p = 2\nq = 7\n", 0),
            src("m/a.auto.tfvars.json", "\n  {\"p\": 5}\n\n", 1),
            src("m/b.auto.tfvars", "p = 4\n", 2),
        );
        let (fa, fb, fc) = (parse(&a), parse(&b), parse(&c));
        let v = values(&[(&c, &fc), (&a, &fa), (&b, &fb)]);
        assert_eq!(c.slice(v["p"].value.span), "4");
        assert_eq!(a.slice(v["q"].value.span), "7");
        assert!(fb.syntax_error.is_none(), "{:?}", fb.syntax_error);
        assert_eq!(b.slice(fb.vars[0].value.span), "5");
    }

    #[test]
    fn a_block_is_refused_on_its_line() {
        let s = SourceFile::new(FileId(0), "m/x.auto.tfvars", b"p = 1\nthing {\n}\n");
        let f = parse(&s);
        let e = f.syntax_error.unwrap();
        assert!(
            e.message.starts_with("Unexpected \"thing\" block"),
            "{}",
            e.message
        );
        assert_eq!(s.slice(e.span), "thing {");
    }
}
