use super::*;
use crate::source::FileId;

pub(crate) fn file(text: &str) -> (TfFile, SourceFile) {
    let source = SourceFile::new(FileId(0), "infra/main.tf", text.as_bytes());
    (parse(&source), source)
}

#[test]
fn blocks_attributes_and_spans() {
    let (f, src) = file(
        "resource \"aws_security_group\" \"ftp\" {\n  ingress {\n    from_port = 21\n    to_port   = 21\n  }\n}\n",
    );
    assert!(f.syntax_error.is_none());
    let sg = &f.blocks[0];
    assert_eq!(sg.kind, "resource");
    assert_eq!(sg.labels, ["aws_security_group", "ftp"]);
    assert_eq!(
        src.slice(sg.head),
        "resource \"aws_security_group\" \"ftp\""
    );
    let ing = &sg.body.blocks[0];
    let from = ing.body.attr("from_port").unwrap();
    assert_eq!(src.slice(from.span), "from_port = 21");
    assert_eq!(src.slice(from.value.span), "21");
}

#[test]
fn syntax_errors_are_placed_as_terraform_places_them() {
    let (f, src) = file("resource \"a\" \"b\" {\n  ingress {\n    from_port = 21\n");
    let e = f.syntax_error.unwrap();
    assert_eq!(e.message, "Unclosed configuration block");
    assert_eq!(src.line_col(e.span.start).0, 2);
    let (f, src) = file("resource \"a\" \"b\" {\n  x = 1\n  x = 2\n}\n");
    let e = f.syntax_error.unwrap();
    assert!(
        e.message.starts_with("Attribute redefined"),
        "{}",
        e.message
    );
    assert_eq!(src.line_col(e.span.start).0, 3);
}

proptest::proptest! {
    #[test]
    fn any_text_parses_without_panic(text in "(resource|\"a\"|\\{|\\}|\\[|\\]|=|<<-?EOF\\n|EOF\\n|\\$\\{|%\\{|\\n|  |x|21|#|//|/\\*|\\*/|,|é|\\\\)*") {
        let (f, src) = file(&text);
        if let Some(e) = &f.syntax_error {
            proptest::prop_assert!(src.text.get(e.span.range()).is_some());
        }
    }
}
