//! `iis-passive-range-misplaced`: see rules/iis-passive-range-misplaced.toml.

mod apphost_fix;
mod metabase_fix;
mod xml_edit;

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::ParsedFile;
use crate::source::SourceFile;
use crate::formats::iis_apphost::{AppHost, Misplaced, apphost_of};
use crate::formats::iis_metabase::{Key, Metabase, PASSIVE_PORT_RANGE, Property, metabase_of};

pub struct IisPassiveRangeMisplaced;

impl Rule for IisPassiveRangeMisplaced {
    fn name(&self) -> &'static str {
        "iis-passive-range-misplaced"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        let source = &file.source;
        if let Some(doc) = metabase_of(file) {
            self.metabase(doc, source, out);
        }
        if let Some(doc) = apphost_of(file) {
            out.extend(doc.misplaced_range.iter().map(|m| {
                self.apphost(doc, m)
                    .with_fixes(apphost_fix::fix(doc, source, m))
            }));
        }
    }
}

impl IisPassiveRangeMisplaced {
    fn metabase(&self, doc: &Metabase, source: &SourceFile, out: &mut Vec<Diagnostic>) {
        let service = doc.ftp_service();
        for key in &doc.keys {
            if let Some(prop) = key.property(PASSIVE_PORT_RANGE) {
                if !key.is_service_location() {
                    let fix = metabase_fix::fix(doc, source, key, prop, false);
                    out.push(self.metabase_key(key, prop, service).with_fixes(fix));
                }
            }
            for stray in key.stray.iter().filter(|p| p.name == PASSIVE_PORT_RANGE) {
                let fix = metabase_fix::fix(doc, source, key, stray, true);
                out.push(self.below_tag(key, stray).with_fixes(fix));
            }
        }
    }

    /// A property line pasted between the start and end tags instead of into the start tag.
    fn below_tag(&self, key: &Key, stray: &Property) -> Diagnostic {
        let location = key.location_path().unwrap_or("");
        Diagnostic::new(
            self.name(),
            format!(
                "the line PassivePortRange=\"{}\" is text inside <{}>, below the start tag's `>`: IIS reads properties only as attributes of the start tag",
                stray.value, key.kind
            ),
            stray.name_span.to(stray.value_span),
            "text, not a property",
        )
        .with_related(key.tag, "the start tag holds the properties")
        .with_help(format!(
            "move it into the start tag, before its `>`: <{} Location=\"{location}\" PassivePortRange=\"{}\">",
            key.kind, stray.value
        ))
    }

    fn metabase_key(&self, key: &Key, prop: &Property, service: Option<&Key>) -> Diagnostic {
        let location = key.location_path().unwrap_or("");
        let mut d = Diagnostic::new(
            self.name(),
            format!(
                "the key <{} Location=\"{location}\"> sets PassivePortRange=\"{}\", which IIS ignores: it reads the range only from the FTP service key /LM/MSFTPSVC",
                key.kind, prop.value
            ),
            prop.value_span,
            "not read here",
        );
        let in_use = service.and_then(|s| s.property(PASSIVE_PORT_RANGE).map(|p| (s, p)));
        match (service, in_use) {
            (_, Some((_, used))) => {
                d = d.with_related(used.value_span, format!("IIS uses \"{}\"", used.value));
            }
            (Some(s), None) => d = d.with_related(s.tag, "the FTP service key, without a range"),
            (None, None) => {}
        }
        d.with_help(format!(
            "move PassivePortRange=\"{}\" to <IIsFtpService Location=\"/LM/MSFTPSVC\"> (cscript adsutil.vbs set MSFTPSVC/PassivePortRange \"{}\") and restart the FTP Publishing Service",
            prop.value, prop.value
        ))
    }

    fn apphost(&self, doc: &AppHost, m: &Misplaced) -> Diagnostic {
        let mut d = Diagnostic::new(
            self.name(),
            format!(
                "{}=\"{}\" in {} is not read: IIS takes the data channel range only from the server-level <system.ftpServer><firewallSupport>",
                m.attr.name, m.attr.value, m.place
            ),
            m.attr.value_span,
            "not read here",
        );
        if let Some(channel) = &doc.data_channel {
            d = d.with_related(channel.tag, "the range IIS uses");
        }
        d.with_help(format!(
            "set {}={} on <system.ftpServer><firewallSupport> at server level (appcmd set config -section:system.ftpServer/firewallSupport /{}:{} /commit:apphost) and remove it here",
            m.attr.name, m.attr.value, m.attr.name, m.attr.value
        ))
    }
}
