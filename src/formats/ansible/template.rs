//! Templates as Ansible's `template` module renders them (Jinja with
//! `trim_blocks=True`, `lstrip_blocks=False`): the output text, each part mapped
//! back to the template bytes it came from. An expression pasvlint cannot
//! evaluate renders as [`UNKNOWN`]; lines under an `{% if %}` it cannot decide or
//! a `{% for %}` over what it cannot know keep their setting's name and get an
//! unknown value (the setting may be set, to something not known), so a parser
//! of the rendered file never reads a guess.

use super::jinja::{self, Bound, Segment, Value, Vars};
use crate::formats::written::push_slice;
use crate::scripts::{Text, UNKNOWN};
use crate::source::{FileId, Span};
use std::collections::HashMap;

/// Where rendered text points: into the template file itself, or (a template
/// pasvlint has no file for) at one span that stands for it.
#[derive(Clone, Copy, Debug)]
pub enum Spans {
    InFile(FileId),
    /// A string written verbatim in a file from this byte offset on.
    InFileAt(FileId, usize),
    At(Span),
}

impl Spans {
    fn span(&self, start: usize, end: usize) -> (Span, bool) {
        match self {
            Spans::At(span) => (*span, false),
            _ => (self.tag(start, end), true),
        }
    }

    fn tag(&self, start: usize, end: usize) -> Span {
        match self {
            Spans::InFile(file) => Span::new(*file, start, end),
            Spans::InFileAt(file, at) => Span::new(*file, at + start, at + end),
            Spans::At(span) => *span,
        }
    }
}

/// The most text a rendering produces; past it the file is not known.
const MAX_OUTPUT: usize = 1 << 20;
/// The most loop iterations a rendering runs, all loops together.
const MAX_ITERATIONS: usize = 100_000;

#[derive(Debug)]
enum Node {
    Text(usize, usize),
    Expr {
        tag: (usize, usize),
        inner: (usize, usize),
    },
    If(Vec<Branch>),
    For {
        tag: (usize, usize),
        targets: Vec<String>,
        iter: String,
        body: Vec<Node>,
        otherwise: Vec<Node>,
    },
    Set {
        tag: (usize, usize),
        name: String,
        expr: String,
    },
    /// A statement not followed (`include`, `macro`, `call`, `filter`, ...).
    Opaque {
        tag: (usize, usize),
        body: Vec<Node>,
    },
}

#[derive(Debug)]
struct Branch {
    /// `None` for `{% else %}`.
    cond: Option<String>,
    tag: (usize, usize),
    body: Vec<Node>,
}

/// Render `template` with `vars`; `None` when it is not a template Jinja accepts.
pub fn render(template: &str, vars: &dyn Vars, spans: Spans) -> Option<Text> {
    let segs = jinja::segments(template).ok()?;
    let segs = trim(template, segs);
    let nodes = tree(template, &segs)?;
    let mut r = Renderer {
        template,
        spans,
        iterations: 0,
    };
    let mut out = Text::default();
    let locals = HashMap::new();
    r.nodes(&nodes, vars, &locals, &mut out)?;
    Some(out)
}

/// Apply `-` whitespace control and `trim_blocks` to the text around tags.
fn trim(template: &str, segs: Vec<Segment>) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::with_capacity(segs.len());
    let mut strip_next = false;
    let mut newline_next = false;
    for seg in segs {
        match seg {
            Segment::Text { mut start, end } => {
                if strip_next {
                    while start < end && template.as_bytes()[start].is_ascii_whitespace() {
                        start += 1;
                    }
                } else if newline_next {
                    if template[start..end].starts_with("\r\n") {
                        start += 2;
                    } else if template[start..end].starts_with('\n') {
                        start += 1;
                    }
                }
                strip_next = false;
                newline_next = false;
                out.push(Segment::Text { start, end });
            }
            tag => {
                let (trim, block, keep) = match &tag {
                    Segment::Expr { trim, .. } => (*trim, false, false),
                    Segment::Stmt { trim, keep, .. } | Segment::Comment { trim, keep, .. } => {
                        (*trim, true, *keep)
                    }
                    Segment::Text { .. } => ((false, false), false, false),
                };
                if trim.0 {
                    if let Some(Segment::Text { start, end }) = out.last_mut() {
                        while *end > *start && template.as_bytes()[*end - 1].is_ascii_whitespace() {
                            *end -= 1;
                        }
                    }
                }
                strip_next = trim.1;
                newline_next = block && !keep;
                out.push(tag);
            }
        }
    }
    out
}

/// The statement's keyword and the rest.
fn keyword(stmt: &str) -> (&str, &str) {
    let s = stmt.trim();
    match s.find(char::is_whitespace) {
        Some(i) => (&s[..i], s[i..].trim()),
        None => (s, ""),
    }
}

enum Open {
    If(Vec<Branch>),
    For {
        tag: (usize, usize),
        targets: Vec<String>,
        iter: String,
        body: Vec<Node>,
        otherwise: Option<Vec<Node>>,
    },
    Opaque {
        tag: (usize, usize),
        end: String,
    },
}

fn tree(template: &str, segs: &[Segment]) -> Option<Vec<Node>> {
    let mut stack: Vec<(Open, Vec<Node>)> = Vec::new();
    let mut top: Vec<Node> = Vec::new();
    fn current<'a>(
        stack: &'a mut [(Open, Vec<Node>)],
        top: &'a mut Vec<Node>,
    ) -> &'a mut Vec<Node> {
        match stack.last_mut() {
            Some((_, nodes)) => nodes,
            None => top,
        }
    }
    for seg in segs {
        match seg {
            Segment::Text { start, end } => {
                if start < end {
                    current(&mut stack, &mut top).push(Node::Text(*start, *end));
                }
            }
            Segment::Comment { .. } => {}
            Segment::Expr {
                start, end, inner, ..
            } => current(&mut stack, &mut top).push(Node::Expr {
                tag: (*start, *end),
                inner: *inner,
            }),
            Segment::Stmt {
                start, end, inner, ..
            } => {
                let tag = (*start, *end);
                let (kw, rest) = keyword(&template[inner.0..inner.1]);
                match kw {
                    "if" => stack.push((
                        Open::If(vec![Branch {
                            cond: Some(rest.to_owned()),
                            tag,
                            body: Vec::new(),
                        }]),
                        Vec::new(),
                    )),
                    "elif" | "else" => {
                        let (open, nodes) = stack.last_mut()?;
                        match open {
                            Open::If(branches) => {
                                branches.last_mut()?.body = std::mem::take(nodes);
                                branches.push(Branch {
                                    cond: (kw == "elif").then(|| rest.to_owned()),
                                    tag,
                                    body: Vec::new(),
                                });
                            }
                            Open::For {
                                body, otherwise, ..
                            } if kw == "else" && otherwise.is_none() => {
                                *body = std::mem::take(nodes);
                                *otherwise = Some(Vec::new());
                            }
                            _ => return None,
                        }
                    }
                    "endif" => {
                        let (Open::If(mut branches), nodes) = stack.pop()? else {
                            return None;
                        };
                        branches.last_mut()?.body = nodes;
                        current(&mut stack, &mut top).push(Node::If(branches));
                    }
                    "for" => {
                        let (targets, iter) = rest.split_once(" in ")?;
                        let targets: Vec<String> = targets
                            .split(',')
                            .map(|t| t.trim().trim_matches(['(', ')']).trim().to_owned())
                            .collect();
                        if targets.iter().any(|t| t.is_empty()) {
                            return None;
                        }
                        stack.push((
                            Open::For {
                                tag,
                                targets,
                                iter: iter.to_owned(),
                                body: Vec::new(),
                                otherwise: None,
                            },
                            Vec::new(),
                        ));
                    }
                    "endfor" => {
                        let (
                            Open::For {
                                tag,
                                targets,
                                iter,
                                body,
                                otherwise,
                            },
                            nodes,
                        ) = stack.pop()?
                        else {
                            return None;
                        };
                        let (body, otherwise) = match otherwise {
                            Some(_) => (body, nodes),
                            None => (nodes, Vec::new()),
                        };
                        current(&mut stack, &mut top).push(Node::For {
                            tag,
                            targets,
                            iter,
                            body,
                            otherwise,
                        });
                    }
                    "set" if rest.contains('=') => {
                        let (name, expr) = rest.split_once('=')?;
                        current(&mut stack, &mut top).push(Node::Set {
                            tag,
                            name: name.trim().to_owned(),
                            expr: expr.to_owned(),
                        });
                    }
                    "macro" | "call" | "filter" | "raw" | "block" | "set" => stack.push((
                        Open::Opaque {
                            tag,
                            end: format!("end{kw}"),
                        },
                        Vec::new(),
                    )),
                    end if end.starts_with("end") => {
                        let (Open::Opaque { tag, end: wanted }, body) = stack.pop()? else {
                            return None;
                        };
                        if wanted != end {
                            return None;
                        }
                        current(&mut stack, &mut top).push(Node::Opaque { tag, body });
                    }
                    _ => current(&mut stack, &mut top).push(Node::Opaque {
                        tag,
                        body: Vec::new(),
                    }),
                }
            }
        }
    }
    stack.is_empty().then_some(top)
}

struct Renderer<'t> {
    template: &'t str,
    spans: Spans,
    iterations: usize,
}

/// How a branch or loop body is rendered.
impl Renderer<'_> {
    fn nodes(
        &mut self,
        nodes: &[Node],
        vars: &dyn Vars,
        locals: &HashMap<String, Value>,
        out: &mut Text,
    ) -> Option<()> {
        let mut locals = locals.clone();
        for node in nodes {
            if out.text.len() > MAX_OUTPUT {
                return None;
            }
            let scope = Bound {
                names: locals.clone(),
                outer: vars,
            };
            match node {
                Node::Text(start, end) => {
                    let (span, verbatim) = self.spans.span(*start, *end);
                    out.push(&self.template[*start..*end], span, verbatim);
                }
                Node::Expr { tag, inner } => {
                    let span = self.spans.tag(tag.0, tag.1);
                    match jinja::eval(&self.template[inner.0..inner.1], &scope, 0) {
                        Ok(v) => out.push(&v.to_text(), span, false),
                        Err(_) => out.push(&UNKNOWN.to_string(), span, false),
                    }
                }
                Node::Set { tag, name, expr } => match jinja::eval(expr, &scope, 0) {
                    Ok(v) => {
                        locals.insert(name.clone(), v);
                    }
                    Err(_) => {
                        // Later uses of the name are not known.
                        locals.remove(name);
                        let _ = tag;
                    }
                },
                Node::If(branches) => {
                    let mut undecided: Option<Span> = None;
                    for b in branches {
                        let taken = match &b.cond {
                            None => Some(true),
                            Some(c) => jinja::eval(c, &scope, 0).ok().map(|v| v.truthy()),
                        };
                        let tag = self.spans.tag(b.tag.0, b.tag.1);
                        match (undecided, taken) {
                            (None, Some(true)) => {
                                self.nodes(&b.body, vars, &locals, out)?;
                                break;
                            }
                            (None, Some(false)) => {}
                            (None, None) => {
                                undecided = Some(tag);
                                self.unknown_lines(&b.body, vars, &locals, tag, out)?;
                            }
                            (Some(at), _) => self.unknown_lines(&b.body, vars, &locals, at, out)?,
                        }
                    }
                }
                Node::For {
                    tag,
                    targets,
                    iter,
                    body,
                    otherwise,
                } => {
                    let at = self.spans.tag(tag.0, tag.1);
                    let items = match jinja::eval(iter, &scope, 0) {
                        Ok(Value::List(items)) => Some(items),
                        Ok(Value::Map(entries)) => {
                            Some(entries.into_iter().map(|(k, _)| Value::Str(k)).collect())
                        }
                        _ => None,
                    };
                    let Some(items) = items else {
                        self.unknown_lines(body, vars, &locals, at, out)?;
                        continue;
                    };
                    if items.is_empty() {
                        self.nodes(otherwise, vars, &locals, out)?;
                        continue;
                    }
                    let length = items.len();
                    for (i, item) in items.into_iter().enumerate() {
                        self.iterations += 1;
                        if self.iterations > MAX_ITERATIONS {
                            return None;
                        }
                        let mut inner = locals.clone();
                        if !bind(&mut inner, targets, item) {
                            self.unknown_lines(body, vars, &locals, at, out)?;
                            break;
                        }
                        inner.insert("loop".into(), loop_value(i, length));
                        self.nodes(body, vars, &inner, out)?;
                    }
                }
                Node::Opaque { tag, body } => {
                    let at = self.spans.tag(tag.0, tag.1);
                    if body.is_empty() {
                        out.push(&UNKNOWN.to_string(), at, false);
                    } else {
                        self.unknown_lines(body, vars, &locals, at, out)?;
                    }
                }
            }
        }
        Some(())
    }

    /// Render `nodes` and keep of each line only the setting's name: what the
    /// line would set is not known, nor whether it is there at all.
    fn unknown_lines(
        &mut self,
        nodes: &[Node],
        vars: &dyn Vars,
        locals: &HashMap<String, Value>,
        at: Span,
        out: &mut Text,
    ) -> Option<()> {
        let mut inner = Text::default();
        self.nodes(nodes, vars, locals, &mut inner)?;
        let text = inner.text.clone();
        let mut pos = 0;
        while pos < text.len() {
            let end = text[pos..].find('\n').map_or(text.len(), |n| pos + n + 1);
            let line = &text[pos..end];
            let body = line.trim_end_matches(['\n', '\r']);
            let lead = body.len() - body.trim_start().len();
            let content = &body[lead..];
            if content.is_empty() || content.starts_with('#') || content.starts_with(';') {
                push_slice(out, &inner, pos, end);
            } else {
                let key_len = content
                    .find(|c: char| c == '=' || c == ':' || c.is_whitespace())
                    .unwrap_or(content.len());
                let mut cut = lead + key_len;
                let rest = &body[cut..];
                if rest.starts_with('=') || rest.starts_with(':') {
                    cut += 1;
                } else {
                    cut += rest.len() - rest.trim_start().len();
                }
                push_slice(out, &inner, pos, pos + cut);
                out.push(&UNKNOWN.to_string(), at, false);
                if line.ends_with('\n') {
                    push_slice(out, &inner, end - 1, end);
                }
            }
            pos = end;
        }
        Some(())
    }
}

fn bind(locals: &mut HashMap<String, Value>, targets: &[String], item: Value) -> bool {
    match targets {
        [one] => {
            locals.insert(one.clone(), item);
            true
        }
        many => match item {
            Value::List(parts) if parts.len() == many.len() => {
                for (t, v) in many.iter().zip(parts) {
                    locals.insert(t.clone(), v);
                }
                true
            }
            _ => false,
        },
    }
}

fn loop_value(i: usize, length: usize) -> Value {
    let n = |x: usize| Value::Int(x as i64);
    Value::Map(vec![
        ("index".into(), n(i + 1)),
        ("index0".into(), n(i)),
        ("first".into(), Value::Bool(i == 0)),
        ("last".into(), Value::Bool(i + 1 == length)),
        ("length".into(), n(length)),
        ("revindex".into(), n(length - i)),
        ("revindex0".into(), n(length - i - 1)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::ansible::jinja::{Eval, NoVars};

    struct Map(Vec<(&'static str, Value)>);

    impl Vars for Map {
        fn get(&self, name: &str, _: usize) -> Option<Eval> {
            self.0
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| Ok(v.clone()))
        }
    }

    fn shown(t: &Text) -> String {
        t.text.replace(UNKNOWN, "?")
    }

    #[test]
    fn renders_values_with_spans_in_the_template() {
        let tpl = "# {{ ansible_managed }}\nlisten=YES\npasv_min_port={{ ftp_pasv_min }}\npasv_max_port={{ ftp_pasv_max }}\n";
        let vars = Map(vec![
            ("ftp_pasv_min", Value::Int(50000)),
            ("ftp_pasv_max", Value::Int(50100)),
        ]);
        let out = render(tpl, &vars, Spans::InFile(FileId(3))).unwrap();
        assert_eq!(
            shown(&out),
            "# ?\nlisten=YES\npasv_min_port=50000\npasv_max_port=50100\n"
        );
        let at = out.text.find("50000").unwrap();
        let span = out.span_of(at, at + 5).unwrap();
        assert_eq!(&tpl[span.range()], "{{ ftp_pasv_min }}");
        let at = out.text.find("listen").unwrap();
        let span = out.span_of(at, at + 10).unwrap();
        assert_eq!(&tpl[span.range()], "listen=YES");
    }

    #[test]
    fn if_for_set_and_trim_blocks() {
        let tpl = "{% set low = 40000 %}\n{% if tls %}\nssl_enable=YES\n{% else %}\nssl_enable=NO\n{% endif %}\n{% for k, v in opts.items() %}\n{{ k }}={{ v }}\n{% endfor %}\npasv_min_port={{ low }}\n{%- if x is defined %} x{% endif %}\n";
        let vars = Map(vec![
            ("tls", Value::Bool(false)),
            (
                "opts",
                Value::Map(vec![
                    ("a".into(), Value::Int(1)),
                    ("b".into(), Value::Str("YES".into())),
                ]),
            ),
        ]);
        let out = render(tpl, &vars, Spans::InFile(FileId(0))).unwrap();
        assert_eq!(
            shown(&out),
            "ssl_enable=NO\na=1\nb=YES\npasv_min_port=40000"
        );
    }

    #[test]
    fn undecided_branches_keep_names_and_lose_values() {
        let tpl = "listen=YES\n{% if ftp_tls %}\nssl_enable=YES\nrsa_cert_file=/x\n# c\n{% endif %}\n{% for p in lookup('x') %}\nlocal_root={{ p }}\n{% endfor %}\n";
        let out = render(tpl, &NoVars, Spans::InFile(FileId(0))).unwrap();
        assert_eq!(
            shown(&out),
            "listen=YES\nssl_enable=?\nrsa_cert_file=?\n# c\nlocal_root=?\n"
        );
    }

    #[test]
    fn broken_templates_are_not_rendered() {
        for tpl in [
            "{% if x %}",
            "{% endif %}",
            "{{ x",
            "{% for x %}{% endfor %}",
        ] {
            assert!(
                render(tpl, &NoVars, Spans::InFile(FileId(0))).is_none(),
                "{tpl}"
            );
        }
    }
}
