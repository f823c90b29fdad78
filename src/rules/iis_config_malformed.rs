//! `iis-config-malformed`: see rules/iis-config-malformed.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::iis_apphost::apphost_of;
use crate::formats::iis_metabase::metabase_of;
use crate::formats::xml::XmlTree;
use crate::formats::{Format, ParsedFile};

pub struct IisConfigMalformed;

impl Rule for IisConfigMalformed {
    fn name(&self) -> &'static str {
        "iis-config-malformed"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        let xml = match (metabase_of(file), apphost_of(file)) {
            (Some(doc), _) => &doc.xml,
            (_, Some(doc)) => &doc.xml,
            _ => return,
        };
        out.extend(self.xml_errors(file, xml));
        if let Some(doc) = apphost_of(file) {
            out.extend(doc.duplicate_data_channels.iter().map(|dup| {
                Diagnostic::new(
                    self.name(),
                    "<system.ftpServer><firewallSupport> is defined twice at server level: IIS rejects a duplicate section",
                    dup.tag,
                    "second definition",
                )
                .with_related(
                    doc.data_channel.as_ref().map_or(dup.tag, |first| first.tag),
                    "first definition",
                )
                .with_help("keep one <firewallSupport> under <system.ftpServer> and delete the other")
            }));
        }
    }
}

impl IisConfigMalformed {
    fn xml_errors<'a>(
        &'a self,
        file: &'a ParsedFile,
        xml: &'a XmlTree,
    ) -> impl Iterator<Item = Diagnostic> + 'a {
        let name = file
            .source
            .path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let consequence = match file.format {
            Format::IisMetabase => "IIS cannot load a MetaBase.xml that is not well-formed",
            _ => "IIS refuses a configuration file that is not well-formed",
        };
        xml.errors.iter().map(move |e| {
            let (line, column) = file.source.line_col(e.span.start);
            let mut d = Diagnostic::new(
                self.name(),
                format!("the XML of {name} breaks at line {line}, column {column}: {}", e.message),
                e.span,
                "XML breaks here",
            );
            if let Some((span, label)) = &e.related {
                d = d.with_related(*span, label.clone());
            }
            d.with_help(format!(
                "fix the XML at line {line} and check the file with an XML parser before restarting IIS ({consequence})"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::formats::{Format, classify, facts, parse};
    use crate::rules::registry;
    use crate::source::{FileId, SourceFile};
    use std::path::Path;

    /// Every cut of a well-formed file before its closing `</configuration>`
    /// is reported, and no rule or fact extraction panics on any of them.
    #[test]
    fn every_truncation_is_reported_without_panic() {
        let files: [(&str, &[u8]); 2] = [
            (
                "MetaBase.xml",
                include_bytes!("../../fixtures/formats/iis/MetaBase.xml"),
            ),
            (
                "applicationHost.config",
                include_bytes!("../../fixtures/formats/iis/applicationHost.config"),
            ),
        ];
        for (name, bytes) in files {
            let text = std::str::from_utf8(bytes).unwrap();
            let end = text.rfind("</configuration>").unwrap() + "</configuration>".len();
            for cut in (0..end).filter(|&c| text.is_char_boundary(c)) {
                let source = SourceFile::new(FileId(0), name, &bytes[..cut]);
                let format = classify(Path::new(name), &source.text).unwrap();
                assert!(matches!(
                    format,
                    Format::IisMetabase | Format::IisApplicationHost
                ));
                let file = parse(source, format);
                let mut out = Vec::new();
                for r in registry() {
                    r.rule.check_file(&file, &mut out);
                }
                let _ = facts(&file);
                assert!(
                    out.iter().any(|d| d.rule == "iis-config-malformed"),
                    "{name} cut at {cut} not reported"
                );
            }
        }
    }
}
